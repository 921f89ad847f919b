"""Ordinary code that talks about secrets without holding any: nothing here may be redacted."""
import os

import bcrypt

API_KEY_ENV = "SERVICE_API_KEY"
MAX_PASSWORD_LEN = 64
TOKEN_TYPE = "Bearer"
secret_name = "db-credentials"
password_hash = bcrypt.hashpw(b"input", bcrypt.gensalt())
api_key = os.environ["SERVICE_API_KEY"]
token = self.token
secret = None
password = ""
request_id = "550e8400-e29b-41d4-a716-446655440000"
commit = "3f2a9c1d8e7b6a5f4e3d2c1b0a9f8e7d6c5b4a39"
digest = "sha256:9b2c4f5e6d7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e0f1a2b3c"
tokenizer = load_tokenizer("bert-base-uncased")
url = "https://example.com/search?page=2&sort=asc"
dsn = "postgres://localhost:5432/app"
repo = "git@github.com:octo/widgets.git"
mirror = "https://user@example.com/repo.git"
template = "https://{user}:{password}@{host}/"


def login(user, password):
    if password == user.password:
        return issue_token(user, token_type="Bearer", expires_in=3600)
    headers = {"Authorization": "Bearer " + token}
    return authenticate(user, password=password, auth=headers)


def keys(d):
    for key, value in d.items():
        print(f"{key}={value}")
    return sorted(d, key=lambda k: k.lower())
