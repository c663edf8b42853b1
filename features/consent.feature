Feature: Consent is the general principle
  "The general principle is that information will only be shared with the
  consent of the subject of the information."
  "It is important that it is explained to children, families and other
  adults, openly and honestly, what and how information will, or could be
  shared and why, and seek their understanding and, if necessary or
  appropriate, their consent."

  Background:
    Given a case about a child
    And the harm concern is "no"
    And seeking consent would cause none of those harms
    And the purpose is "referral"
    And the recipient is "childrens_social_care"
    And the recipient needs to know is "yes"

  @clause.consent-general-principle @clause.record-decisions
  Scenario: Consent given: the information is shared, and the decision recorded
    Given the consent is "given"
    When the protocol is applied
    Then the decision is "share"
    And the rationale quotes "information will only be shared with the consent of the subject of the information"
    And the obligations include "record_in_case_file"
    And the rationale quotes "will record in the case file, full details of all decisions regarding information sharing, including the rationale"

  @clause.consent-general-principle
  Scenario: Consent refused and no exception: nothing is shared
    Given the consent is "refused"
    When the protocol is applied
    Then the decision is "do_not_share"
    And nothing is shared

  @clause.explain-openly-and-seek-consent
  Scenario: Consent not yet sought: explain openly and seek consent first
    Given the consent is "not_sought"
    When the protocol is applied
    Then the decision is "seek_consent"
    And the subject is told openly
    And the obligations include "explain_openly"
    And the rationale quotes "explained to children, families and other adults, openly and honestly"

  @clause.consent-general-principle
  Scenario: The case does not say whether there is consent
    Given the case does not say the consent
    When the protocol is applied
    Then the decision is "undetermined"
    And the missing facts are "consent"
