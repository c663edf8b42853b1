# The information-sharing decision, hand-translated from policies/information-sharing
# into Rego, for the side-by-side benchmark (bench/peers.py). It must agree with
# infoshare's decision on every case of the corpus; the benchmark checks that first.
# Input: a case's facts as the API takes them; a fact not given is absent.
package infoshare

import rego.v1

exception_harms := {
	"increase_risk_to_child_or_others",
	"put_adult_at_risk_of_serious_harm",
	"undermine_legal_proceedings",
}

# rules/1-consent-exceptions.yaml
consent_exception := "not_known" if {
	not "seeking_consent_would" in object.keys(input)
} else := "yes" if {
	some harm in input.seeking_consent_would
	harm in exception_harms
} else := "yes" if {
	"undermine_crime_investigation" in input.seeking_consent_would
	input.serious_crime == "yes"
} else := "no" if {
	not "undermine_crime_investigation" in input.seeking_consent_would
} else := "no" if {
	input.serious_crime == "no"
} else := "unsure" if {
	input.serious_crime == "unsure"
} else := "not_known"

# rules/2-welfare.yaml
welfare_override := "yes" if {
	input.subject == "child"
	input.harm_concern == "yes"
} else := "yes" if {
	input.harm_concern == "yes"
	input.crime_suspected == "yes"
} else := "unclear" if {
	input.harm_concern == "yes"
	input.crime_suspected == "no"
} else := "unsure" if {
	input.harm_concern == "yes"
	input.crime_suspected == "unsure"
} else := "not_known" if {
	input.harm_concern == "yes"
} else := "unsure" if {
	input.harm_concern == "unsure"
} else := "no" if {
	input.harm_concern == "no"
} else := "not_known"

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
}

candidates contains "do_not_share" if {
	consent == "refused"
	consent_exception == "no"
	welfare_override == "no"
}

candidates contains "seek_consent" if {
	consent == "not_sought"
	consent_exception == "no"
	welfare_override in {"no", "unclear"}
}

candidates contains "refer" if {
	input.subject == "adult"
	consent == "refused"
	consent_exception == "no"
	welfare_override == "unclear"
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
	consent_exception == "not_known"
	welfare_override != "yes"
}

candidates contains "undetermined" if {
	without_consent
	welfare_override == "not_known"
	consent_exception != "yes"
}

candidates contains "do_not_share" if input.recipient_needs_to_know == "no"

candidates contains "refer" if input.recipient_needs_to_know == "unsure"

candidates contains "undetermined" if not "recipient_needs_to_know" in object.keys(input)

candidates contains "undetermined" if not "recipient" in object.keys(input)

candidates contains "undetermined" if not "purpose" in object.keys(input)

# policy.yaml: the first value in precedence order that some rule concluded; `refer` otherwise
precedence := ["do_not_share", "undetermined", "refer", "seek_consent", "share_without_consent", "share"]

decision := [d | some d in precedence; d in candidates][0] if {
	count(candidates) > 0
} else := "refer"
