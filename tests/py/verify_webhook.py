"""Verifies a Rusk webhook with the Standard Webhooks reference library, independently of
Rusk's own signing code. usage: verify_webhook.py SECRET HEADERS.json BODY_FILE
Exits non-zero (with the library's error) if the signature does not verify."""
import json
import sys

from standardwebhooks.webhooks import Webhook

secret, headers_path, body_path = sys.argv[1:4]
headers = json.load(open(headers_path))
body = open(body_path, "rb").read().decode()
payload = Webhook(secret).verify(body, headers)
print(json.dumps({"type": payload["type"], "id": payload["data"]["id"]}))
