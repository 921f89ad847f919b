import os

# Fake keys for the redaction tests; none is valid anywhere.
AWS_ACCESS_KEY_ID = "AKIAIOSFODNN7EXAMPLE"
GITHUB = "ghp_Q8xZ2mT7bR4kN9vL1sW6yP3cF5hJ0dGaEe1X"
GITHUB_FINE = "github_pat_11ABCDEFG0abcdefghijKL_mnopqrstuvWXYZ0123456789abcdefghijklmnopqrstuvwxYZ01234567"
OPENAI = "sk-proj-Zx81kQw3Er5Ty7Ui9Op1As3Df5Gh7Jk9Lz2Xc4Vb6Nm8"
OPENAI_OLD = "sk-a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8s9T0u1V2w3X4"
ANTHROPIC = "sk-ant-api03-Qm9xW2eR4tY6uI8oP0aS2dF4gH6jK8lZ1xC3vB5nM7qWeRtYuIoP-AbCdEf12"
OPENROUTER = "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"
SLACK = "xoxb-2401938475-5823749102-Kf8sLq2Wm9Zx4Nv7Rt1Yp3Hc"


def client():
    return os.environ.get("API_URL", "http://localhost")
