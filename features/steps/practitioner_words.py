"""The practitioner's words, and the facts and decisions of the policy's vocabulary they stand for.

Scenarios speak as a practitioner would ("consent has been refused"); the
steps translate through these tables and nothing else, so a phrase means the
same in every feature. Each table becomes a step parameter type that matches
only its own phrases: a phrase that is not here is an undefined step, never a
silently different fact.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from behave import register_type

# A statement about the case -> (fact, answer).
STATEMENTS: dict[str, tuple[str, Any]] = {
    "consent has been given": ("consent", "given"),
    "consent has been refused": ("consent", "refused"),
    "consent has not been sought": ("consent", "not_sought"),
    "there is concern that the child has suffered, or is likely to suffer, Significant Harm": ("harm_concern", "yes"),
    "there is concern of Significant Harm": ("harm_concern", "yes"),
    "there are concerns about the safety of the adult": ("harm_concern", "yes"),
    "there is no concern of Significant Harm": ("harm_concern", "no"),
    "there is no concern about the safety of the adult": ("harm_concern", "no"),
    "a crime is suspected": ("crime_suspected", "yes"),
    "no crime is suspected": ("crime_suspected", "no"),
    "the crime is serious": ("serious_crime", "yes"),
    "the crime is not serious": ("serious_crime", "no"),
    "the person needs to know the information": ("recipient_needs_to_know", "yes"),
    "the person does not need to know the information": ("recipient_needs_to_know", "no"),
    "it would be shared securely": ("secure_channel", True),
    "the means of sharing is not secure": ("secure_channel", False),
    "seeking consent would cause none of those harms": ("seeking_consent_would", []),
}

# What a case may leave unsaid or unsure: "the case does not say <this>",
# "it is unsure <this>", "nothing may be shared until the case says <this>".
WHETHER: dict[str, str] = {
    "whether there is consent": "consent",
    "whether there is concern of Significant Harm": "harm_concern",
    "whether there are concerns about the safety of the adult": "harm_concern",
    "whether a crime is suspected": "crime_suspected",
    "whether the crime is serious": "serious_crime",
    "whether the person needs to know the information": "recipient_needs_to_know",
    "whether it would be shared securely": "secure_channel",
    "what seeking consent would do": "seeking_consent_would",
    "for what purpose the person needs to know the information": "purpose",
    "who would receive the information": "recipient",
}

# "seeking consent would <this>": the protocol's exceptions to consent.
SEEKING_CONSENT_WOULD: dict[str, str] = {
    "place the child or others at increased risk of Significant Harm": "increase_risk_to_child_or_others",
    "place an adult at significant risk of serious harm": "put_adult_at_risk_of_serious_harm",
    "undermine the prevention, detection or prosecution of a crime": "undermine_crime_investigation",
    "undermine the ability to seek legal advice or conduct legal or other regulatory proceedings": "undermine_legal_proceedings",
}

# "the information is needed for <purpose>", in the protocol's own examples where it has them.
PURPOSES: dict[str, str] = {
    "a Child Protection Enquiry": "child_protection_enquiry",
    "a criminal investigation": "criminal_investigation",
    "an adult investigation": "adult_safeguarding_enquiry",
    "action in the Courts or other legal proceedings": "legal_proceedings",
    "insurance reasons": "insurance",
    "a referral": "referral",
    "another purpose": "other",
}

# "... by <recipient>"
RECIPIENTS: dict[str, str] = {
    "Children's Social Care Services": "childrens_social_care",
    "the Police": "police",
    "Adult Social Care Services": "adult_social_care",
    "the Courts": "court",
    "a legal adviser": "legal_adviser",
    "an insurer": "insurer",
    "someone else": "other",
}

# What the practitioner is told to do -> the decision. `undetermined` has its
# own step, because it also names what the case must say.
DECISIONS: dict[str, str] = {
    "the information may be shared": "share",
    "the information may be shared without consent": "share_without_consent",
    "explain openly and seek consent first": "seek_consent",
    "the information is not shared": "do_not_share",
    "the query is directed to the Safeguarding Co-ordinator": "refer",
}

# "whoever shares it must ensure it is <a>, <b>, and <c>": the protocol's conditions on sharing.
CONDITIONS: dict[str, str] = {
    "accurate and up-to-date": "accurate_and_up_to_date",
    "necessary for the purpose for which they are sharing it": "necessary_for_purpose",
    "minimised": "minimised",
    "shared only with those people who need to see it": "need_to_know_only",
    "shared securely": "shared_securely",
}

# Cells of an information table: "not known" leaves the field out.
YES_NO = {"yes": True, "no": False}


def phrase_type(table: dict[str, Any]) -> Callable[[str], Any]:
    """A step parameter type that matches exactly the phrases of `table` (longest first)."""
    folded = {k.casefold(): v for k, v in table.items()}

    def convert(text: str) -> Any:
        return folded[text.casefold()]  # parse matches ignoring case

    convert.pattern = "|".join(re.escape(k) for k in sorted(table, key=len, reverse=True))
    return convert


register_type(
    Statement=phrase_type(STATEMENTS),
    Whether=phrase_type(WHETHER),
    Exception=phrase_type(SEEKING_CONSENT_WOULD),
    Purpose=phrase_type(PURPOSES),
    Recipient=phrase_type(RECIPIENTS),
    Decision=phrase_type(DECISIONS),
)


def facts_named(words: str) -> list[str]:
    """ "whether a crime is suspected and who would receive the information" -> the facts named."""
    unknown = [part for part in words.split(" and ") if part not in WHETHER]
    assert not unknown, f"not a phrase for a fact: {unknown}; the phrases are: {', '.join(WHETHER)}"
    return [WHETHER[part] for part in words.split(" and ")]
