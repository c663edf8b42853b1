Feature: Confidentiality where there are concerns about Significant Harm
  "When speaking to a child or an adult in circumstances where there are
  concerns about Significant Harm to a Child or an Adult, full confidentiality
  cannot be promised as it may be necessary to share the information to
  protect others as well as the person subject to the concerns."

  @clause.confidentiality-cannot-be-promised
  Scenario: A harm concern: confidentiality cannot be promised
    Given a case about an adult
    And the harm concern is "yes"
    When the protocol is applied
    Then confidentiality is "cannot_be_promised"
    And the rationale quotes "full confidentiality cannot be promised"

  @clause.confidentiality-cannot-be-promised
  Scenario: No harm concern: confidentiality can be offered
    Given a case about a child
    And the harm concern is "no"
    When the protocol is applied
    Then confidentiality is "can_be_offered"
