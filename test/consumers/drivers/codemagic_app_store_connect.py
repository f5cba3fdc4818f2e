"""codemagic-cli-tools' own `app-store-connect` command, aimed at the tests' FAKE App Store
Connect API on 127.0.0.1.

codemagic has no flag or variable for the API's base URL: it is a class constant,
AppStoreConnectApiClient.API_URL. This launcher replaces that one constant in-process and then
hands argv to codemagic's entry point, so everything that matters is codemagic's own code:
reading APP_STORE_CONNECT_KEY_IDENTIFIER / _ISSUER_ID / _PRIVATE_KEY (with its @file: and @env:
references) or finding AuthKey_<ID>.p8 in its directories, loading the key, building and signing
the JWT, and sending the request.
"""
import os
import sys

from codemagic.apple.app_store_connect.api_client import AppStoreConnectApiClient

base_url = os.environ.get("ASC_FAKE_API_URL", "")
# Only the fake: this must never send a token anywhere else.
if not base_url.startswith("http://127.0.0.1:"):
    sys.exit("ASC_FAKE_API_URL must be the fake App Store Connect API on http://127.0.0.1:PORT")
AppStoreConnectApiClient.API_URL = base_url + "/v1"

from codemagic.tools import AppStoreConnect  # noqa: E402 (after the constant is replaced)

sys.argv[0] = "app-store-connect"
sys.exit(AppStoreConnect.invoke_cli())
