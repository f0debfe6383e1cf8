#!/usr/bin/env bash
# Writes the seed corpus fuzz/corpus/<target>/ once, from the forms the unit tests use: a few small
# valid inputs per target (the CMS, certificate and key seeds made with the OpenSSL CLI). Run it again
# only to change the seeds; fuzz/run.sh fuzzes a copy of them.
set -euo pipefail
cd "$(dirname "$0")"
corpus=corpus
rm -rf "$corpus"
mkdir -p "$corpus"/{checkpoint,witness_add_checkpoint,verifier_key,tile_path,cms,certificate,key_import,dossier_code,page_token,policy}

python3 - "$corpus" <<'PY'
import base64, hashlib, json, sys
corpus = sys.argv[1]
def write(target, name, data):
    with open(f"{corpus}/{target}/{name}", "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())
b64 = lambda b: base64.b64encode(b).decode()
origin = "example.org/log"
root = b64(bytes([9]) * 32)
line = lambda name, n: f"\u2014 {name} {b64(bytes([1, 2, 3, 4]) + bytes([n]) * 64)}\n"
note = f"{origin}\n3\n{root}\n\n" + line(origin, 7)
write("checkpoint", "one_signature", note)
write("checkpoint", "extension_and_cosignature", f"{origin}\n0\n{b64(bytes(32))}\nextension one\n\n" + line(origin, 7) + "\u2014 witness.example AAAAAAE=\n")
write("checkpoint", "boom_origin_near", f"boon\n1\n{root}\n\n" + line("boon", 1))
write("witness_add_checkpoint", "no_proof", "old 0\n\n" + note)
write("witness_add_checkpoint", "two_proof_lines", f"old 2\n{b64(bytes([1]) * 32)}\n{b64(bytes([2]) * 32)}\n\n" + note)
point = bytes([0x58]) + bytes([0x66]) * 31  # the Ed25519 base point
for name, kind in (("example.org/log", 1), ("witness.example", 4)):
    key_id = hashlib.sha256(name.encode() + b"\n" + bytes([kind]) + point).digest()[:4]
    write("verifier_key", f"type{kind}", f"{name}+{key_id.hex()}+{b64(bytes([kind]) + point)}")
for index, path in enumerate(["tile/0/x001/234", "tile/1/005.p/17", "tile/entries/000", "tile/entries/x123/x456/789.p/255"]):
    write("tile_path", f"path{index}", path)
write("dossier_code", "default", "{agency}-{date:%y%m%d}-{number:4}\n000.00.12.H26-250301-0001")
write("dossier_code", "other_template", "HS/{date:%Y.%m.%d}/{agency}/{number:6}\nHS/2025.03.01/G12.H26/000042")
write("dossier_code", "no_template", "000.00.12.H26-251231-12345")
def fingerprint(text):
    h = 0xcbf29ce484222325
    for byte in text.encode():
        h = ((h ^ byte) * 0x100000001b3) % 2**64
    return f"{h:016x}"
for index, (key, filter) in enumerate([("dossiers/000.00.12.H26-250301-0001", "state=RECEIVED"), ("2025-03-01T00:00:00Z|42", "")]):
    token = base64.urlsafe_b64encode(json.dumps({"k": key, "f": fingerprint(filter)}, separators=(",", ":")).encode()).decode().rstrip("=")
    write("page_token", f"token{index}", f"{token}\n{filter}")
write("policy", "grants", 'identities:\n  agency/so-tu-phap:\n    rpcs: ["motcua.intake.v1.IntakeService/CreateDossier"]\n    branches: ["CN01"]\n    procedures: ["1.001193"]\n  service/receipt:\n    rpcs: ["motcua.signing.v1.SigningService/*"]\n')
write("policy", "everyone", 'identities:\n  "*":\n    rpcs: ["*"]\n')
PY

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(
  cd "$work"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout key.pem -out cert.pem \
    -days 3650 -subj "/CN=fuzz seed signer" 2>/dev/null
  printf 'a document' > document
  openssl cms -sign -binary -md sha256 -in document -signer cert.pem -inkey key.pem -outform DER -out signature.p7s
  openssl x509 -in cert.pem -outform DER -out cert.der
  openssl pkcs12 -export -in cert.pem -inkey key.pem -passout pass:fuzz -iter 1 -maciter -out key.p12
)
cp "$work/signature.p7s" "$corpus/cms/ecdsa_detached.p7s"
cp "$work/cert.der" "$corpus/certificate/ecdsa_self_signed.der"
{ printf '\0'; cat "$work/key.p12"; } > "$corpus/key_import/pkcs12_password_fuzz"
{ printf '\1'; cat "$work/cert.pem"; printf '\0'; cat "$work/key.pem"; printf '\0'; } > "$corpus/key_import/pem_chain_and_key"
{ printf '\1'; cat "$work/cert.pem"; } > "$corpus/key_import/pem_chain_only"
du -sh "$corpus"
