"""Names of every environment variable joyctl reads, in one place (README "Environment").

These are variable names, not secrets, hence the S105 exemptions.
"""

HOME = "JOYCTL_HOME"
PROFILE = "JOYCTL_PROFILE"
JSON = "JOYCTL_JSON"
DEBUG = "JOYCTL_DEBUG"
NO_INPUT = "JOYCTL_NO_INPUT"
BASE_URL = "JOYCTL_BASE_URL"
CLIENT_ID = "JOYCTL_CLIENT_ID"
REVISION = "JOYCTL_REVISION"
SANDBOX_LATENCY = "JOYCTL_SANDBOX_LATENCY"  # the embedded sandbox's latency profile
KEYRING_TIMEOUT = "JOYCTL_KEYRING_TIMEOUT"
API_KEY = "JOYCTL_KLAVIYO_API_KEY"
ACCESS_TOKEN = "JOYCTL_KLAVIYO_ACCESS_TOKEN"  # noqa: S105
CLIENT_SECRET = "JOYCTL_KLAVIYO_CLIENT_SECRET"  # noqa: S105
WEBHOOK_SECRET = "JOYCTL_WEBHOOK_SECRET"  # noqa: S105  # the signing secret `listen` verifies
NO_COLOR = "NO_COLOR"
