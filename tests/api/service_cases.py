"""Cases the service tests send (imported by name: tests/api is on sys.path)."""

from shared_cases import SHARE_FACTS as SHARE_FACTS  # held once for every suite; imported from here too

# A case with only the subject: the policy cannot decide it.
BARE_FACTS = {"subject": "adult"}
# What a store's chain holds before its first decision when one client with one key was made: the
# scope record, the client, its key, the policy version and its activation (service.store.logchain).
SETUP_RECORDS = 5
