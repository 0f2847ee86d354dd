# Shared by scripts/link-gcc and scripts/link-order, which must agree on what names a symbol in
# crates/envfile-cli/link-order.txt: its demangled name less any `.llvm.N` suffix (LTO adds
# those to promoted local symbols, with numbers that change from build to build).

# symbol_pairs OUT FILE...: writes OUT with one "demangled<TAB>mangled" line per defined symbol of
# FILE...; fails when nm's two listings disagree in length (the pairing would be wrong).
symbol_pairs() {
  local out="$1" dir
  shift
  dir="$(mktemp -d)"
  nm --defined-only --no-sort "$@" 2>/dev/null | awk 'NF >= 3 { print $3 }' > "$dir/mangled"
  nm --defined-only --no-sort -C "$@" 2>/dev/null | awk 'NF >= 3' |
    sed -E 's/^[^ ]+ [^ ]+ //; s/\.llvm\.[0-9]+$//' > "$dir/demangled"
  if [[ $(wc -l < "$dir/mangled") -ne $(wc -l < "$dir/demangled") ]]; then
    rm -rf "$dir"
    return 1
  fi
  paste -d '\t' "$dir/demangled" "$dir/mangled" > "$out"
  rm -rf "$dir"
}
