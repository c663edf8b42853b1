Feature: The exceptions to consent
  "The exceptions to this include where to seek consent would:"
  - "Place the child or others at increased risk of Significant Harm, or"
  - "Place an adult at significant risk of serious harm, or"
  - "Undermine the prevention, detection or prosecution of a serious crime ..."
  - "Undermine the ability to seek legal advice or enable others to seek legal
    advice or conduct legal or other regulatory proceedings."
  Where an exception applies, the information is shared without consent and
  the subject is not told first: telling them would defeat the exception.

  Background:
    Given a case about a child
    And the harm concern is "no"
    And the consent is "refused"
    And the purpose is "referral"
    And the recipient is "childrens_social_care"
    And the recipient needs to know is "yes"

  @clause.consent-exceptions @clause.exception-child-or-others-at-risk
  Scenario: Seeking consent would place the child or others at increased risk
    Given seeking consent would "increase_risk_to_child_or_others"
    When the protocol is applied
    Then the decision is "share_without_consent"
    And the subject is not told before sharing
    And the rationale quotes "Place the child or others at increased risk of Significant Harm"
    And the rationale quotes "The exceptions to this include where to seek consent would:"

  @clause.exception-adult-at-risk
  Scenario: Seeking consent would place an adult at significant risk of serious harm
    Given a case about an adult
    And the consent is "not_sought"
    And the purpose is "adult_safeguarding_enquiry"
    And the recipient is "adult_social_care"
    And seeking consent would "put_adult_at_risk_of_serious_harm"
    When the protocol is applied
    Then the decision is "share_without_consent"
    And the subject is not told before sharing
    And the rationale quotes "Place an adult at significant risk of serious harm"

  @clause.exception-legal-proceedings
  Scenario: Seeking consent would undermine legal proceedings
    Given seeking consent would "undermine_legal_proceedings"
    When the protocol is applied
    Then the decision is "share_without_consent"
    And the subject is not told before sharing
    And the rationale quotes "conduct legal or other regulatory proceedings"

  @clause.exception-serious-crime
  Scenario: Seeking consent would undermine the prosecution of a serious crime
    Given seeking consent would "undermine_crime_investigation"
    And the crime suspected is "yes"
    And the serious crime is "yes"
    When the protocol is applied
    Then the decision is "share_without_consent"
    And the subject is not told before sharing
    And the rationale quotes "Undermine the prevention, detection or prosecution of a serious crime"

  @clause.exception-serious-crime
  Scenario: The crime exception needs a serious crime
    Given seeking consent would "undermine_crime_investigation"
    And the crime suspected is "yes"
    And the serious crime is "no"
    When the protocol is applied
    Then the decision is "do_not_share"
    And the subject is told openly

  @clause.exception-serious-crime
  Scenario: Whether the crime is serious is not known yet
    Given seeking consent would "undermine_crime_investigation"
    And the crime suspected is "yes"
    When the protocol is applied
    Then the decision is "undetermined"
    And the missing facts are "serious_crime"

  @clause.exception-serious-crime @clause.queries-to-coordinator
  Scenario: Whether the crime is serious is unsure: the query goes to the Safeguarding Co-ordinator
    Given seeking consent would "undermine_crime_investigation"
    And the crime suspected is "yes"
    And the serious crime is "unsure"
    When the protocol is applied
    Then the decision is "refer"
    And the obligations include "direct_query_to_coordinator"
    And the rationale quotes "Any queries about information sharing must be directed to the Safeguarding Co-ordinator."
