"""Signs App Store Connect tokens with PyJWT (and cryptography) from what `asc-credential export`
wrote, verifies each with the key's public half, and sends it to the tests' FAKE App Store
Connect API on 127.0.0.1. Prints one JSON object per token: the HTTP status, whether the
signature verified, the header and the claim names. Never a token, never the key.

  pyjwt_sign.py env                 every convention's variables in the environment (after
                                    `eval "$(asc-credential export --format env ...)"`)
  pyjwt_sign.py fastlane-json FILE  fastlane's api_key.json, turned into a token by fastlane's
                                    rules (see fastlane_token below)
  pyjwt_sign.py file FILE KEY_ID [ISSUER_ID] [--omit-iat | --iat-string]
                                    one key file; the flags make a token the fake must judge on
                                    its `iat` rule

Environment: ASC_FAKE_API_URL (http://127.0.0.1:PORT), ASC_PUBLIC_KEY_PEM (SPKI PEM).
"""
import json
import os
import sys
import time
import urllib.error
import urllib.request

import jwt
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import load_pem_private_key

AUDIENCE = "appstoreconnect-v1"
BASE_URL = os.environ.get("ASC_FAKE_API_URL", "")
if not BASE_URL.startswith("http://127.0.0.1:"):
    sys.exit("ASC_FAKE_API_URL must be the fake App Store Connect API on http://127.0.0.1:PORT")
PUBLIC_KEY = os.environ["ASC_PUBLIC_KEY_PEM"]
# No proxy, whatever the environment says: the token goes to 127.0.0.1 and nowhere else.
OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def load_key(pem_text):
    """The key as cryptography loads it; only an EC P-256 key is an App Store Connect key."""
    key = load_pem_private_key(pem_text.encode(), password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey) or key.curve.name != "secp256r1":
        raise SystemExit("not an EC P-256 private key")
    return key


def judge(label, token, audience=AUDIENCE):
    """Verifies `token` with the public half, then asks the fake; returns what both said."""
    try:
        jwt.decode(token, PUBLIC_KEY, algorithms=["ES256"], audience=audience, options={"verify_iat": False})
        verified = True
    except jwt.InvalidTokenError as error:
        verified = type(error).__name__
    request = urllib.request.Request(BASE_URL + "/v1/apps?limit=1", headers={"Authorization": "Bearer " + token})
    try:
        with OPENER.open(request, timeout=10) as response:
            status = response.status
    except urllib.error.HTTPError as error:
        status = error.code
    return {
        "label": label,
        "status": status,
        "verified": verified,
        "header": jwt.get_unverified_header(token),
        "claims": sorted(jwt.decode(token, options={"verify_signature": False}).keys()),
    }


def app_store_connect_token(pem_text, key_id, issuer_id, iat="now"):
    """A token as Apple documents it: team keys `iss`, individual keys `sub: "user"`."""
    now = int(time.time())
    payload = {"exp": now + 600, "aud": AUDIENCE}
    if iat == "now":
        payload["iat"] = now
    elif iat == "string":
        payload["iat"] = str(now)
    if issuer_id:
        payload["iss"] = issuer_id
    else:
        payload["sub"] = "user"
    return jwt.encode(payload, load_key(pem_text), algorithm="ES256", headers={"kid": key_id, "typ": "JWT"})


def read(path):
    with open(path, encoding="utf-8") as handle:
        return handle.read()


# (label, key ID variable, issuer ID variable, how to find the key file) for every convention
# export writes.
CONVENTIONS = [
    ("asc-credential", "APP_STORE_CONNECT_KEY_ID", "APP_STORE_CONNECT_ISSUER_ID", lambda env, kid: env["APP_STORE_CONNECT_PRIVATE_KEY_PATH"]),
    ("fastlane", "APP_STORE_CONNECT_API_KEY_KEY_ID", "APP_STORE_CONNECT_API_KEY_ISSUER_ID", lambda env, kid: env["APP_STORE_CONNECT_API_KEY_KEY_FILEPATH"]),
    ("codemagic", "APP_STORE_CONNECT_KEY_IDENTIFIER", "APP_STORE_CONNECT_ISSUER_ID", lambda env, kid: file_reference(env["APP_STORE_CONNECT_PRIVATE_KEY"])),
    ("eas", "EXPO_ASC_KEY_ID", "EXPO_ASC_ISSUER_ID", lambda env, kid: env["EXPO_ASC_API_KEY_PATH"]),
    ("asc", "ASC_KEY_ID", "ASC_ISSUER_ID", lambda env, kid: env["ASC_PRIVATE_KEY_PATH"]),
    ("altool", "APP_STORE_CONNECT_KEY_ID", "APP_STORE_CONNECT_ISSUER_ID", lambda env, kid: os.path.join(env["API_PRIVATE_KEYS_DIR"], "AuthKey_%s.p8" % kid)),
]


def file_reference(value):
    if not value.startswith("@file:"):
        raise SystemExit("APP_STORE_CONNECT_PRIVATE_KEY is not an @file: reference")
    return value[len("@file:"):]


def fastlane_token(path):
    """
    fastlane's Spaceship::ConnectAPI::Token.from_json_file and .create, mirrored (fastlane itself
    cannot be installed here): `key_id` and `key` are required, `issuer_id` absent means an
    individual key (`sub: "user"`), `key` is the PEM itself unless `is_key_content_base64`,
    `duration` defaults to 500 s, `iat` is backdated 60 s, `in_house: true` switches the audience
    to the enterprise one.
    """
    data = json.loads(read(path))
    missing = [name for name in ("key_id", "key") if name not in data]
    if missing:
        raise SystemExit("App Store Connect API key JSON is missing field(s): " + ", ".join(missing))
    key_text = data["key"]
    if data.get("is_key_content_base64"):
        raise SystemExit("is_key_content_base64 is set: fastlane would base64-decode the key")
    now = int(time.time())
    audience = "apple-developer-enterprise-v1" if data.get("in_house") else AUDIENCE
    payload = {"iat": now - 60, "exp": now + int(data.get("duration") or 500), "aud": audience}
    if data.get("issuer_id"):
        payload["iss"] = data["issuer_id"]
    else:
        payload["sub"] = "user"
    token = jwt.encode(payload, load_key(key_text), algorithm="ES256", headers={"kid": data["key_id"], "typ": "JWT"})
    return judge("fastlane api_key.json", token, audience)


def main(argv):
    mode = argv[1]
    if mode == "env":
        env = os.environ
        for label, key_id_var, issuer_var, key_path in CONVENTIONS:
            key_id = env[key_id_var]
            token = app_store_connect_token(read(key_path(env, key_id)), key_id, env.get(issuer_var))
            print(json.dumps(judge(label, token)))
    elif mode == "fastlane-json":
        print(json.dumps(fastlane_token(argv[2])))
    elif mode == "file":
        flags = [a for a in argv[3:] if a.startswith("--")]
        rest = [a for a in argv[3:] if not a.startswith("--")]
        iat = "omit" if "--omit-iat" in flags else "string" if "--iat-string" in flags else "now"
        token = app_store_connect_token(read(argv[2]), rest[0], rest[1] if len(rest) > 1 else None, iat)
        print(json.dumps(judge("file", token)))
    else:
        raise SystemExit("unknown mode " + mode)


if __name__ == "__main__":
    main(sys.argv)
