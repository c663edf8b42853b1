# The information-sharing decision, hand-translated from policies/information-sharing
# into Rego, for the side-by-side benchmark (bench/peers.py). It must agree with
# infoshare's decision on every case of the corpus; the benchmark checks that first.
# Input: a case's facts as the API takes them; a fact not given is absent.
package infoshare

import rego.v1

# grounds.yaml: each ground for sharing without consent, the purposes it serves and,
# for each purpose, the recipients that fit it.
referral_to_any := {"childrens_social_care", "adult_social_care", "police"}

grounds := {
	"child-or-others-at-risk": {
		"child_protection_enquiry": {"childrens_social_care"},
		"criminal_investigation": {"police"},
		"adult_safeguarding_enquiry": {"adult_social_care"},
		"referral": referral_to_any,
	},
	"adult-at-risk": {
		"adult_safeguarding_enquiry": {"adult_social_care"},
		"criminal_investigation": {"police"},
		"referral": referral_to_any,
	},
	"serious-crime": {
		"criminal_investigation": {"police"},
		"legal_proceedings": {"court"},
		"referral": referral_to_any,
	},
	"legal-proceedings": {
		"legal_proceedings": {"court", "legal_adviser"},
		"referral": referral_to_any,
	},
	"child-welfare": {
		"child_protection_enquiry": {"childrens_social_care"},
		"criminal_investigation": {"police"},
		"referral": {"childrens_social_care", "police"},
	},
	"adult-safety-crime": {
		"adult_safeguarding_enquiry": {"adult_social_care"},
		"criminal_investigation": {"police"},
		"referral": {"adult_social_care", "police"},
	},
}

# `purpose and recipient: {within: ground}`; `outside` is its negation (also when either is not given).
within(ground) if input.recipient in grounds[ground][input.purpose]

given(fact) if fact in object.keys(input)

# rules/1-consent-exceptions.yaml: the values concluded; facts.yaml lists which one wins.
exception_grounds := {
	"increase_risk_to_child_or_others": "child-or-others-at-risk",
	"put_adult_at_risk_of_serious_harm": "adult-at-risk",
	"undermine_legal_proceedings": "legal-proceedings",
}

exception_harms := {
	"increase_risk_to_child_or_others",
	"put_adult_at_risk_of_serious_harm",
	"undermine_crime_investigation",
	"undermine_legal_proceedings",
}

exceptions_applying contains ground if {
	some harm in input.seeking_consent_would
	ground := exception_grounds[harm]
}

exceptions_applying contains "serious-crime" if {
	"undermine_crime_investigation" in input.seeking_consent_would
	input.serious_crime == "yes"
}

some_harm_claimed if {
	some harm in input.seeking_consent_would
	harm in exception_harms
}

crime_claimed if "undermine_crime_investigation" in input.seeking_consent_would

exception_values contains "yes" if {
	some ground in exceptions_applying
	within(ground)
}

exception_values contains "out_of_scope" if {
	some ground in exceptions_applying
	not within(ground)
}

exception_values contains "no" if {
	given("seeking_consent_would")
	not some_harm_claimed
}

exception_values contains "no" if {
	crime_claimed
	input.serious_crime == "no"
}

exception_values contains "unsure" if {
	crime_claimed
	input.serious_crime == "unsure"
}

exception_values contains "awaits_facts" if {
	crime_claimed
	not given("serious_crime")
}

exception_values contains "awaits_facts" if not given("seeking_consent_would")

exception_order := ["yes", "unsure", "awaits_facts", "out_of_scope", "no"]

consent_exception := [v | some v in exception_order; v in exception_values][0]

# rules/2-welfare.yaml
welfare_grounds contains "child-welfare" if {
	input.subject == "child"
	input.harm_concern == "yes"
}

welfare_grounds contains "adult-safety-crime" if {
	input.subject == "adult"
	input.harm_concern == "yes"
	input.crime_suspected == "yes"
}

adult_of_concern if {
	input.subject == "adult"
	input.harm_concern == "yes"
}

welfare_values contains "yes" if {
	some ground in welfare_grounds
	within(ground)
}

welfare_values contains "out_of_scope" if {
	some ground in welfare_grounds
	not within(ground)
}

welfare_values contains "no" if input.harm_concern == "no"

welfare_values contains "unsure" if input.harm_concern == "unsure"

welfare_values contains "awaits_facts" if not given("harm_concern")

welfare_values contains "protocol_silent" if {
	adult_of_concern
	input.crime_suspected == "no"
}

welfare_values contains "unsure" if {
	adult_of_concern
	input.crime_suspected == "unsure"
}

welfare_values contains "awaits_facts" if {
	adult_of_concern
	not given("crime_suspected")
}

welfare_order := ["yes", "unsure", "awaits_facts", "protocol_silent", "out_of_scope", "no"]

welfare_override := [v | some v in welfare_order; v in welfare_values][0]

consent := object.get(input, "consent", "not_given")

without_consent if consent != "given"

# rules/3-consent.yaml and rules/4-before-sharing.yaml: every decision a rule concludes
candidates contains "share" if consent == "given"

candidates contains "share_without_consent" if {
	without_consent
	consent_exception == "yes"
}

candidates contains "share_without_consent" if {
	without_consent
	welfare_override == "yes"
	consent_exception in {"no", "out_of_scope", "unsure", "awaits_facts"}
}

candidates contains "do_not_share" if {
	consent == "refused"
	consent_exception == "no"
	welfare_override == "no"
}

candidates contains "seek_consent" if {
	consent == "not_sought"
	consent_exception == "no"
	welfare_override in {"no", "protocol_silent"}
}

candidates contains "refer" if {
	input.subject == "adult"
	consent == "refused"
	consent_exception == "no"
	welfare_override == "protocol_silent"
}

candidates contains "refer" if {
	without_consent
	consent_exception == "out_of_scope"
	welfare_override in {"no", "protocol_silent", "out_of_scope"}
}

candidates contains "refer" if {
	without_consent
	welfare_override == "out_of_scope"
	consent_exception in {"no", "out_of_scope"}
}

candidates contains "refer" if {
	without_consent
	consent_exception == "unsure"
	welfare_override != "yes"
}

candidates contains "refer" if {
	without_consent
	welfare_override == "unsure"
	consent_exception != "yes"
}

candidates contains "undetermined" if {
	consent == "not_given"
	consent_exception != "yes"
	welfare_override != "yes"
}

candidates contains "undetermined" if {
	without_consent
	consent_exception == "awaits_facts"
	welfare_override != "yes"
}

candidates contains "undetermined" if {
	without_consent
	welfare_override == "awaits_facts"
	consent_exception != "yes"
}

candidates contains "do_not_share" if input.recipient_needs_to_know == "no"

candidates contains "refer" if input.recipient_needs_to_know == "unsure"

candidates contains "undetermined" if not given("recipient_needs_to_know")

candidates contains "undetermined" if not given("recipient")

candidates contains "undetermined" if not given("purpose")

# facts.yaml `contradictions:`: facts that cannot hold together refer the case, whatever else holds.
contradicted if {
	input.crime_suspected == "no"
	input.serious_crime == "yes"
}

# policy.yaml: the first value in precedence order that some rule concluded; `refer` otherwise
precedence := ["do_not_share", "undetermined", "refer", "seek_consent", "share_without_consent", "share"]

ranked := [d | some d in precedence; d in candidates]

decision := "refer" if {
	contradicted
} else := ranked[0] if {
	count(ranked) > 0
} else := "refer"
