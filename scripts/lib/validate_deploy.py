"""Validates every artifact under deploy/ with the real validators (see scripts/validate-deploy).

Each check prints `ok` or `FAIL` with what is wrong; the last line is `N passed, N failed`. The
checkers written here (Pod Security "restricted", image pins, least privilege) are run against
deliberately broken copies of the manifests too, so a checker that stopped rejecting anything
fails the run.

Environment: ENVFILE_BIN (the envfile binary, for `envfile policy`), ENVFILE_TEST_MOTO_URL (a
moto server), VALIDATE_NODE_MODULES (where @kubernetes-models/knative is installed).
"""

import copy
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
RESULTS = []


def check(name):
    """Runs the decorated function as one named check: it passes unless it raises."""

    def run(fn):
        try:
            fn()
        except Exception as e:  # noqa: BLE001 - every failure is reported, none stops the run
            RESULTS.append((name, str(e) or type(e).__name__))
            print(f"FAIL {name}: {e}", flush=True)
        else:
            RESULTS.append((name, None))
            print(f"ok   {name}", flush=True)
        return fn

    return run


def expect_rejected(what, checker, obj):
    """A broken copy must be rejected: proves the checker still looks at what it claims to."""
    try:
        checker(obj)
    except AssertionError:
        return
    raise AssertionError(f"the checker accepted a manifest with {what}")


def k8s_docs():
    out = []
    for path in sorted((DEPLOY / "kubernetes").glob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text()):
            if doc:
                out.append((path.relative_to(ROOT), doc))
    return out


def cloudrun_service():
    return yaml.safe_load((DEPLOY / "cloudrun" / "service.yaml").read_text())


# --- Kubernetes schemas -------------------------------------------------------------------------

def k8s_versions():
    """The newest Kubernetes version kubernetes-validate ships schemas for, and the two minor
    versions before it."""
    from kubernetes_validate import utils

    latest = utils.latest_version()
    major, minor = (int(x) for x in latest.split(".")[:2])
    return [f"{major}.{minor - i}.0" for i in range(3)]


def schema_errors(doc, version):
    from kubernetes_validate import utils

    try:
        utils.validate(doc, version, strict=True)
    except Exception as e:  # ValidationError, SchemaNotFoundError, VersionNotSupportedError
        return getattr(e, "message", None) or str(e)
    return None


@check("kubernetes: every manifest against the strict schemas of the current and two older minors")
def _k8s_schemas():
    versions = k8s_versions()
    problems = []
    for path, doc in k8s_docs():
        for v in versions:
            err = schema_errors(doc, v)
            if err:
                problems.append(f"{path} ({doc['kind']}) against {v}: {err}")
    assert not problems, "; ".join(problems)
    # --strict really rejects what it does not know (a misspelt field).
    _, dep = next(d for d in k8s_docs() if d[1]["kind"] == "Deployment")
    bad = copy.deepcopy(dep)
    bad["spec"]["template"]["spec"]["containers"][0]["securityContex"] = {}
    assert schema_errors(bad, versions[0]), "strict validation accepted an unknown field"


# --- Pod Security Standard "restricted" ---------------------------------------------------------
# The rules of https://kubernetes.io/docs/concepts/security/pod-security-standards/ (baseline and
# restricted, as enforced by the PodSecurity admission controller at version "latest").

RESTRICTED_VOLUMES = {
    "configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "persistentVolumeClaim",
    "projected", "secret",
}
BASELINE_CAPS = {
    "AUDIT_WRITE", "CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "MKNOD", "NET_BIND_SERVICE",
    "SETFCAP", "SETGID", "SETPCAP", "SETUID", "SYS_CHROOT",
}
SAFE_SYSCTLS = {
    "kernel.shm_rmid_forced", "net.ipv4.ip_local_port_range", "net.ipv4.ip_unprivileged_port_start",
    "net.ipv4.tcp_syncookies", "net.ipv4.ping_group_range", "net.ipv4.ip_local_reserved_ports",
    "net.ipv4.tcp_keepalive_time", "net.ipv4.tcp_fin_timeout", "net.ipv4.tcp_keepalive_intvl",
    "net.ipv4.tcp_keepalive_probes",
}
SELINUX_TYPES = {None, "", "container_t", "container_init_t", "container_kvm_t", "container_engine_t"}


def pod_spec(doc):
    kind = doc["kind"]
    if kind == "Pod":
        return doc["spec"]
    if kind == "CronJob":
        return doc["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    if kind in ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job"):
        return doc["spec"]["template"]["spec"]
    return None


def assert_restricted(spec):
    """Raises AssertionError naming every rule the pod spec breaks."""
    bad = []
    psc = spec.get("securityContext") or {}
    for field in ("hostNetwork", "hostPID", "hostIPC"):
        if spec.get(field):
            bad.append(f"{field} is set")
    if (psc.get("windowsOptions") or {}).get("hostProcess"):
        bad.append("windowsOptions.hostProcess")
    for v in spec.get("volumes") or []:
        types = [k for k in v if k != "name"]
        for t in types:
            if t not in RESTRICTED_VOLUMES:
                bad.append(f"volume {v['name']}: type {t} is not allowed")
    for s in psc.get("sysctls") or []:
        if s.get("name") not in SAFE_SYSCTLS:
            bad.append(f"sysctl {s.get('name')} is not in the safe set")
    if (psc.get("seLinuxOptions") or {}).get("type") not in SELINUX_TYPES:
        bad.append("pod seLinuxOptions.type")
    if psc.get("runAsUser") == 0:
        bad.append("pod runAsUser is 0")
    containers = [("initContainers", c) for c in spec.get("initContainers") or []]
    containers += [("containers", c) for c in spec.get("containers") or []]
    containers += [("ephemeralContainers", c) for c in spec.get("ephemeralContainers") or []]
    if not containers:
        bad.append("no containers")
    for where, c in containers:
        name = f"{where}[{c.get('name')}]"
        sc = c.get("securityContext") or {}
        if sc.get("privileged"):
            bad.append(f"{name}: privileged")
        if (sc.get("windowsOptions") or {}).get("hostProcess"):
            bad.append(f"{name}: windowsOptions.hostProcess")
        for p in c.get("ports") or []:
            if p.get("hostPort"):
                bad.append(f"{name}: hostPort")
        if sc.get("procMount") not in (None, "Default"):
            bad.append(f"{name}: procMount")
        if (sc.get("seLinuxOptions") or {}).get("type") not in SELINUX_TYPES:
            bad.append(f"{name}: seLinuxOptions.type")
        if (sc.get("appArmorProfile") or {}).get("type") == "Unconfined":
            bad.append(f"{name}: appArmorProfile Unconfined")
        # restricted
        if sc.get("allowPrivilegeEscalation") is not False:
            bad.append(f"{name}: allowPrivilegeEscalation must be false")
        run_as_non_root = sc.get("runAsNonRoot", psc.get("runAsNonRoot"))
        if run_as_non_root is not True:
            bad.append(f"{name}: runAsNonRoot must be true (pod or container)")
        if sc.get("runAsUser") == 0:
            bad.append(f"{name}: runAsUser is 0")
        seccomp = (sc.get("seccompProfile") or psc.get("seccompProfile") or {}).get("type")
        if seccomp not in ("RuntimeDefault", "Localhost"):
            bad.append(f"{name}: seccompProfile must be RuntimeDefault or Localhost")
        caps = sc.get("capabilities") or {}
        if "ALL" not in (caps.get("drop") or []):
            bad.append(f"{name}: capabilities must drop ALL")
        for cap in caps.get("add") or []:
            if cap != "NET_BIND_SERVICE":
                bad.append(f"{name}: adds capability {cap}")
    assert not bad, "; ".join(bad)


@check("kubernetes: every pod passes Pod Security 'restricted' (and the namespace enforces it)")
def _pss():
    pods = [(p, d) for p, d in k8s_docs() if pod_spec(d) is not None]
    assert pods, "no pod templates found"
    for path, doc in pods:
        try:
            assert_restricted(pod_spec(doc))
        except AssertionError as e:
            raise AssertionError(f"{path}: {e}") from None
    ns = [d for _, d in k8s_docs() if d["kind"] == "Namespace"]
    assert ns, "no Namespace manifest"
    labels = ns[0]["metadata"].get("labels") or {}
    assert labels.get("pod-security.kubernetes.io/enforce") == "restricted", \
        "the Namespace does not enforce pod-security 'restricted'"
    spec = pod_spec(pods[0][1])
    mutations = {
        "a container without allowPrivilegeEscalation: false":
            lambda s: s["containers"][0]["securityContext"].pop("allowPrivilegeEscalation"),
        "no seccomp profile": lambda s: s["securityContext"].pop("seccompProfile"),
        "runAsNonRoot unset": lambda s: s["securityContext"].pop("runAsNonRoot"),
        "capabilities not dropped":
            lambda s: s["initContainers"][0]["securityContext"].pop("capabilities"),
        "an added capability": lambda s: s["containers"][0]["securityContext"]["capabilities"]
            .__setitem__("add", ["SYS_ADMIN"]),
        "a hostPath volume":
            lambda s: s["volumes"].append({"name": "h", "hostPath": {"path": "/"}}),
        "hostNetwork": lambda s: s.__setitem__("hostNetwork", True),
        "a hostPort": lambda s: s["containers"][0]["ports"][0].__setitem__("hostPort", 8000),
        "a privileged container":
            lambda s: s["containers"][0]["securityContext"].__setitem__("privileged", True),
        "runAsUser 0": lambda s: s["securityContext"].__setitem__("runAsUser", 0),
    }
    for what, mutate in mutations.items():
        broken = copy.deepcopy(spec)
        mutate(broken)
        expect_rejected(what, assert_restricted, broken)


def all_images(spec):
    cs = (spec.get("initContainers") or []) + (spec.get("containers") or [])
    return [(c["name"], c["image"]) for c in cs]


def assert_pinned(image):
    """A tag other than `latest`, or a digest."""
    if re.search(r"@sha256:[0-9a-f]{64}$", image):
        return
    last = image.rsplit("/", 1)[-1]
    assert ":" in last, f"image `{image}` has no tag"
    assert not last.endswith(":latest"), f"image `{image}` uses :latest"


def workspace_version():
    text = (ROOT / "Cargo.toml").read_text()
    return re.search(r'^version = "([^"]+)"', text, re.M).group(1)


@check("kubernetes: hardened pods (pinned images, resources, unique names, token only for envfile)")
def _k8s_pods():
    docs = k8s_docs()
    names = [(d["kind"], d["metadata"].get("namespace"), d["metadata"]["name"]) for _, d in docs]
    dupes = {n for n in names if names.count(n) > 1}
    assert not dupes, f"two manifests with the same kind/namespace/name: {sorted(dupes)}"
    selectors = {}
    sas = {d["metadata"]["name"]: d for _, d in docs if d["kind"] == "ServiceAccount"}
    for sa in sas.values():
        assert sa.get("automountServiceAccountToken") is False, \
            f"ServiceAccount {sa['metadata']['name']} mounts its token into every pod"
    version = workspace_version()
    for path, d in docs:
        spec = pod_spec(d)
        if spec is None:
            continue
        sel = json.dumps(d["spec"]["selector"]["matchLabels"], sort_keys=True)
        assert sel not in selectors, f"{path}: same selector as {selectors.get(sel)}"
        selectors[sel] = path
        assert spec.get("automountServiceAccountToken") is False, \
            f"{path}: automountServiceAccountToken must be false"
        token_vols = {v["name"] for v in spec.get("volumes") or []
                      if any("serviceAccountToken" in s
                             for s in (v.get("projected") or {}).get("sources") or [])}
        for cname, image in all_images(spec):
            assert_pinned(image)
            if "/envfile:" in image or "/envfile@" in image:
                assert image.endswith(f":{version}") or "@sha256:" in image, \
                    f"{path}: {cname}: envfile image `{image}` is not the workspace version {version}"
        for c in (spec.get("initContainers") or []) + spec["containers"]:
            res = c.get("resources") or {}
            assert (res.get("requests") or {}).get("memory") and (res.get("limits") or {}).get("memory"), \
                f"{path}: {c['name']}: memory request and limit"
            mounts = {m["name"] for m in c.get("volumeMounts") or []}
            is_envfile = "envfile" in c["image"].rsplit("/", 1)[-1]
            if mounts & token_vols:
                assert is_envfile, f"{path}: {c['name']} gets the service-account token"
        # The sidecar's probes must be ones that reach it: exec (inside the pod), not httpGet to
        # a loopback host (the kubelet would send it to the node's loopback).
        for c in spec.get("initContainers") or []:
            for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
                p = c.get(probe)
                if p and "httpGet" in p:
                    assert p["httpGet"].get("host") in (None, ""), \
                        f"{path}: {c['name']}: {probe} httpGet with a host"
    expect_rejected(":latest", assert_pinned, "registry.example.com/envfile:latest")
    expect_rejected("no tag", assert_pinned, "registry.example.com/envfile")


@check("kubernetes: the sidecar serves on a socket only, with its sink and probes that reach it")
def _sidecar():
    dep = next(d for p, d in k8s_docs() if p.name == "deployment-sidecar.yaml")
    spec = pod_spec(dep)
    side = next(c for c in spec["initContainers"] if c.get("restartPolicy") == "Always")
    assert "serve" in side["args"], "the sidecar does not run `envfile serve`"
    cm = next(d for _, d in k8s_docs() if d["kind"] == "ConfigMap")
    import tomllib

    conf = tomllib.loads(cm["data"]["envfile.toml"])["default"]
    broker = conf.get("broker") or {}
    assert broker.get("listen") == "off", "the broker listens on TCP (it would need a token)"
    sock = broker.get("socket")
    assert sock, "the broker has no socket"
    for probe in ("startupProbe", "readinessProbe"):
        cmd = side[probe]["exec"]["command"]
        assert cmd[1] == "ready" and sock in cmd, f"{probe} does not ask {sock}"
    mounts = {m["mountPath"] for m in side["volumeMounts"]}
    assert os.path.dirname(sock) in mounts, f"the socket directory {os.path.dirname(sock)} is not writable"
    sinks = conf.get("sinks") or []
    assert any(s.get("envfile") == "api" and s.get("path") == "/vault/secrets/api" for s in sinks), \
        "no sink writes /vault/secrets/api"
    jwt = conf["backends"]["vault"]["auth"]["jwt_file"]
    assert any(jwt.startswith(m + "/") for m in mounts), f"jwt_file {jwt} is not mounted in the sidecar"


# --- shell snippets ------------------------------------------------------------------------------

def shell_snippets():
    """Every `sh -c SCRIPT` in the manifests (Kubernetes and Cloud Run)."""
    out = []
    docs = k8s_docs() + [(Path("deploy/cloudrun/service.yaml"), cloudrun_service())]
    for path, d in docs:
        spec = pod_spec(d) if d["kind"] != "Service" else d["spec"]["template"]["spec"]
        if not spec:
            continue
        for c in (spec.get("initContainers") or []) + spec["containers"]:
            argv = (c.get("command") or []) + (c.get("args") or [])
            for i, a in enumerate(argv[:-1]):
                if os.path.basename(argv[0]) in ("sh", "bash", "dash") and a == "-c":
                    out.append((f"{path}: {c['name']}", argv[i + 1]))
    return out


def dash_n(script):
    r = subprocess.run(["dash", "-n"], input=script, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr.strip()


@check("shell: every `sh -c` snippet parses in dash (Debian's /bin/sh); `source` is not POSIX")
def _shell():
    snippets = shell_snippets()
    assert snippets, "no shell snippets found"
    for where, script in snippets:
        dash_n(script)
        # `source` parses in dash but fails at run time ("source: not found").
        assert not re.search(r"(^|[;&|]\s*)source\s", script), f"{where}: `source` (use `.`)"
    for script in sorted(DEPLOY.rglob("*.sh")):
        first = script.read_text().splitlines()[0]
        shell = "bash" if "bash" in first else "dash"
        r = subprocess.run([shell, "-n", str(script)], capture_output=True, text=True)
        assert r.returncode == 0, f"{script}: {r.stderr.strip()}"
    expect_rejected("a syntax error", dash_n, "if true; then echo")


# --- Cloud Run / Knative -------------------------------------------------------------------------

KNATIVE_JS = r"""
const { Service } = await import(process.argv[1] + "/@kubernetes-models/knative/serving.knative.dev/v1/Service.js");
let input = "";
for await (const chunk of process.stdin) input += chunk;
let failed = 0;
for (const doc of JSON.parse(input)) {
  try { new Service(doc).validate(); } catch (e) { console.log(e.message); failed++; }
}
process.exit(failed ? 1 : 0);
"""


def knative_validate(docs):
    modules = os.environ["VALIDATE_NODE_MODULES"]
    r = subprocess.run(["node", "--input-type=module", "-e", KNATIVE_JS, modules],
                       input=json.dumps(docs), capture_output=True, text=True)
    return r.returncode, (r.stdout + r.stderr).strip()


@check("cloudrun: the service validates against the Knative Serving v1 schema")
def _cloudrun():
    svc = cloudrun_service()
    bad = copy.deepcopy(svc)
    bad["spec"]["template"]["spec"]["containers"][0]["ports"][0]["containerPort"] = "http"
    code, out = knative_validate([svc, bad])
    lines = out.splitlines()
    assert code == 1 and len(lines) == 1 and "containerPort" in lines[0], \
        f"expected only the broken copy to fail, got exit {code}: {out}"
    for c in svc["spec"]["template"]["spec"]["containers"]:
        assert_pinned(c["image"])


# --- ECS ----------------------------------------------------------------------------------------

def envfile_policy(*args):
    r = subprocess.run([os.environ["ENVFILE_BIN"], *args], capture_output=True, text=True,
                       env={**os.environ, "ENVFILE_LOG": "warn"})
    assert r.returncode == 0, f"envfile {' '.join(args)}: {r.stderr.strip()}"
    return r.stdout


def ecs_files():
    d = DEPLOY / "ecs"
    return (json.loads((d / "task-definition.json").read_text()),
            (d / "iam-task-role-policy.json").read_text(),
            (d / "iam-execution-role-policy.json").read_text())


def envfile_of(entry_point):
    """The env file an `envfile … run|exec [opts] NAME -- …` entry point names."""
    assert "--" in entry_point, f"no `--` in {entry_point}"
    return entry_point[entry_point.index("--") - 1]


@check("ecs: the task role's policy is exactly `envfile policy` for the task's env file")
def _ecs_task_policy():
    td, task_policy, _ = ecs_files()
    (c,) = td["containerDefinitions"]
    name = envfile_of(c["entryPoint"])
    account = td["taskRoleArn"].split(":")[4]
    want = envfile_policy("--config", str(ROOT / "config/aws-ecs.toml"), "policy", "--for", "aws",
                          "--account", account, name)
    assert task_policy == want, \
        f"deploy/ecs/iam-task-role-policy.json differs from `envfile policy --for aws --account {account} {name}`:\n{want}"


@check("ecs: the execution role has no secrets access (the task definition injects none)")
def _ecs_execution_policy():
    td, _, exec_policy = ecs_files()
    doc = json.loads(exec_policy)
    injects = any(c.get("secrets") for c in td["containerDefinitions"])
    actions = []
    for st in doc["Statement"]:
        a = st["Action"]
        actions += [a] if isinstance(a, str) else a
    grants = [a for a in actions if a.startswith(("secretsmanager:", "kms:", "ssm:"))]
    if injects:
        raise AssertionError("the task definition uses `secrets`; envfile reads them instead")
    assert not grants, f"the execution role grants {grants} although nothing is injected"
    allowed = {"ecr:GetAuthorizationToken", "ecr:BatchCheckLayerAvailability",
               "ecr:GetDownloadUrlForLayer", "ecr:BatchGetImage", "logs:CreateLogStream",
               "logs:PutLogEvents"}
    assert set(actions) <= allowed, f"unexpected actions {sorted(set(actions) - allowed)}"
    group = td["containerDefinitions"][0]["logConfiguration"]["options"]["awslogs-group"]
    for st in doc["Statement"]:
        if "logs:PutLogEvents" in st["Action"]:
            assert group in st["Resource"], f"logs are granted on {st['Resource']}, not {group}"


@check("ecs: task definition registers and both policies are created in moto (IAM, ECS)")
def _ecs_moto():
    import boto3

    td, task_policy, exec_policy = ecs_files()
    kw = dict(endpoint_url=os.environ["ENVFILE_TEST_MOTO_URL"], region_name="eu-central-1",
              aws_access_key_id="testing", aws_secret_access_key="testing")
    iam = boto3.client("iam", **kw)
    ecs = boto3.client("ecs", **kw)
    suffix = os.urandom(4).hex()
    trust = json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"},
        "Action": "sts:AssumeRole"}]})
    for role, doc in (("task", task_policy), ("execution", exec_policy)):
        name = f"afu9-control-center-{role}-{suffix}"
        iam.create_role(RoleName=name, AssumeRolePolicyDocument=trust)
        arn = iam.create_policy(PolicyName=name, PolicyDocument=doc)["Policy"]["Arn"]
        iam.attach_role_policy(RoleName=name, PolicyArn=arn)
    # moto's IAM validates policy documents; a broken one must fail the same way.
    try:
        iam.create_policy(PolicyName=f"broken-{suffix}",
                          PolicyDocument=json.dumps({"Version": "2012-10-17",
                                                     "Statement": [{"Effect": "Allow"}]}))
    except iam.exceptions.MalformedPolicyDocumentException:
        pass
    else:
        raise AssertionError("moto accepted a policy without Action/Resource")
    reg = {k: v for k, v in td.items()}
    reg["family"] = f"{td['family']}-{suffix}"
    out = ecs.register_task_definition(**reg)["taskDefinition"]
    assert out["containerDefinitions"][0]["entryPoint"] == td["containerDefinitions"][0]["entryPoint"]
    assert_pinned(td["containerDefinitions"][0]["image"])


# --- Dockerfile ---------------------------------------------------------------------------------

@check("image: hadolint is clean, base images pinned by digest, .dockerignore excludes target/ and .tools/")
def _dockerfile():
    dockerfile = DEPLOY / "Dockerfile"
    r = subprocess.run(["hadolint", "--no-color", str(dockerfile)], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    for line in dockerfile.read_text().splitlines():
        m = re.match(r"FROM\s+(\S+)", line)
        if m and m.group(1) != "scratch":
            assert re.search(r"@sha256:[0-9a-f]{64}$", m.group(1)), f"`{line}` is not pinned by digest"
    with tempfile.TemporaryDirectory() as t:
        bad = Path(t) / "Dockerfile"
        bad.write_text("FROM debian:bookworm-slim\nRUN apt-get update && apt-get install -y curl\n")
        r = subprocess.run(["hadolint", "--no-color", str(bad)], capture_output=True, text=True)
        assert r.returncode != 0 and "DL3008" in r.stdout, "hadolint accepted an unpinned apt package"
    ignore = [l.strip() for l in (ROOT / ".dockerignore").read_text().splitlines()
              if l.strip() and not l.startswith("#")]
    for path in ("target", ".tools"):
        denied = "*" in ignore or path in ignore or f"{path}/" in ignore
        readmitted = any(l.lstrip("!").strip("/") == path for l in ignore if l.startswith("!"))
        assert denied and not readmitted, f".dockerignore lets {path}/ into the build context"


def main():
    failed = [n for n, e in RESULTS if e]
    print(f"{len(RESULTS) - len(failed)} passed, {len(failed)} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
