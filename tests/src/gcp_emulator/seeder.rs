//! Writes test secrets into the emulator through Google's own client (not through envfile), for
//! the conformance suite and the CLI tests.

use crate::conformance::Seeder;
use async_trait::async_trait;
use google_cloud_secretmanager_v1::client::SecretManagerService;
use google_cloud_secretmanager_v1::model::{replication, Replication, Secret, SecretPayload};

/// A Secret Manager client at the emulator, with anonymous credentials.
pub struct GcpSeeder {
    client: SecretManagerService,
    /// The project bare ids are created in.
    pub project: String,
    /// When set, secrets are regional (`projects/P/locations/L/secrets/S`).
    pub location: Option<String>,
}

impl GcpSeeder {
    /// A client for the emulator at `base_url`.
    pub async fn new(base_url: &str, project: &str, location: Option<&str>) -> Self {
        let client = SecretManagerService::builder()
            .with_endpoint(base_url)
            .with_credentials(google_cloud_auth::credentials::anonymous::Builder::new().build())
            .build()
            .await
            .expect("building the Secret Manager client for the emulator");
        Self {
            client,
            project: project.to_owned(),
            location: location.map(str::to_owned),
        }
    }

    /// `projects/P[/locations/L]`.
    pub fn parent(&self) -> String {
        match &self.location {
            Some(l) => format!("projects/{}/locations/{l}", self.project),
            None => format!("projects/{}", self.project),
        }
    }

    /// The full name of secret `id`.
    pub fn name(&self, id: &str) -> String {
        format!("{}/secrets/{id}", self.parent())
    }

    /// Create `id` if missing and add a version holding `value`; returns the version number.
    pub async fn add(&self, id: &str, value: &[u8]) -> String {
        let mut secret = Secret::new();
        if self.location.is_none() {
            secret = secret.set_replication(
                Replication::new().set_automatic(replication::Automatic::default()),
            );
        }
        if let Err(e) = self
            .client
            .create_secret()
            .set_parent(self.parent())
            .set_secret_id(id)
            .set_secret(secret)
            .send()
            .await
        {
            let exists = e.status().map(|s| s.code)
                == Some(google_cloud_gax::error::rpc::Code::AlreadyExists);
            assert!(exists, "create secret {id}: {e}");
        }
        let v = self
            .client
            .add_secret_version()
            .set_parent(self.name(id))
            .set_payload(
                SecretPayload::new()
                    .set_data(value.to_vec())
                    .set_data_crc32c(i64::from(crc32c::crc32c(value))),
            )
            .send()
            .await
            .unwrap_or_else(|e| panic!("add version to {id}: {e}"));
        v.name.rsplit('/').next().unwrap_or_default().to_owned()
    }

    /// Disable version `n` of `id`.
    pub async fn disable(&self, id: &str, n: &str) {
        self.client
            .disable_secret_version()
            .set_name(format!("{}/versions/{n}", self.name(id)))
            .send()
            .await
            .unwrap_or_else(|e| panic!("disable {id}/{n}: {e}"));
    }

    /// Destroy version `n` of `id`.
    pub async fn destroy(&self, id: &str, n: &str) {
        self.client
            .destroy_secret_version()
            .set_name(format!("{}/versions/{n}", self.name(id)))
            .send()
            .await
            .unwrap_or_else(|e| panic!("destroy {id}/{n}: {e}"));
    }

    /// The client, for tests of the emulator's API.
    pub fn client(&self) -> &SecretManagerService {
        &self.client
    }
}

#[async_trait]
impl Seeder for GcpSeeder {
    async fn put(&self, name: &str, value: &[u8]) -> String {
        self.add(name, value).await;
        name.to_owned()
    }

    async fn delete(&self, path: &str) {
        let name = if path.starts_with("projects/") {
            path.to_owned()
        } else {
            self.name(path)
        };
        self.client
            .delete_secret()
            .set_name(name)
            .send()
            .await
            .unwrap_or_else(|e| panic!("delete {path}: {e}"));
    }
}
