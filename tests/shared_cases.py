"""The case more than one suite sends (tests/api, tests/web and bench/log_append.py), held once
so a change to the policy's vocabulary is made in one place. tests/ is on sys.path under pytest
(tests/conftest.py's folder); bench/log_append.py adds it."""

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
