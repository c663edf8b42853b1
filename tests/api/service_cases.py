"""Cases the service tests send (imported by name: tests/api is on sys.path)."""

# A case the shipped policy answers `share`: consent given, every condition holds.
SHARE_FACTS = {
    "subject": "child",
    "consent": "given",
    "harm_concern": "no",
    "purpose": "referral",
    "recipient": "childrens_social_care",
    "recipient_needs_to_know": "yes",
    "secure_channel": True,
    "information": [{"item": "School attendance record", "needed_for_purpose": True, "accurate_and_up_to_date": True}],
}
# A case with only the subject: the policy cannot decide it.
BARE_FACTS = {"subject": "adult"}
# What a store's chain holds before its first decision when one client with one key was made: the
# scope record, the client, its key, the policy version and its activation (service.store.logchain).
SETUP_RECORDS = 5
