Feature: What holds whenever information is shared
  "Where information is shared, those doing so must ensure it is accurate and
  up-to-date, necessary for the purpose for which they are sharing it,
  minimised, shared only with those people who need to see it, and shared
  securely."
  "Before sharing information, the following questions should be considered:
  Does the person need to know the information? Does the person need to know
  all the information? For what purpose does the person need to know the
  information?"

  Background:
    Given a case about a child
    And the harm concern is "no"
    And the consent is "given"
    And the purpose is "referral"
    And the recipient is "childrens_social_care"
    And the recipient needs to know is "yes"

  @clause.sharing-conditions
  Scenario: Sharing always carries its conditions
    When the protocol is applied
    Then the decision is "share"
    And the conditions include "accurate_and_up_to_date"
    And the conditions include "necessary_for_purpose"
    And the conditions include "minimised"
    And the conditions include "need_to_know_only"
    And the conditions include "shared_securely"

  @clause.sharing-conditions
  Scenario: An insecure means of sharing is called out
    Given the secure channel is "false"
    When the protocol is applied
    Then the conditions include "channel_not_secure"
    And the rationale quotes "and shared securely"

  @clause.question-need-to-know
  Scenario: A recipient who does not need to know gets nothing
    Given the recipient needs to know is "no"
    When the protocol is applied
    Then the decision is "do_not_share"
    And nothing is shared
    And the rationale quotes "Does the person need to know the information?"

  @clause.question-need-to-know @clause.queries-to-coordinator
  Scenario: Unsure whether the recipient needs to know: the Co-ordinator decides
    Given the recipient needs to know is "unsure"
    When the protocol is applied
    Then the decision is "refer"

  @clause.question-purpose
  Scenario: No purpose is given
    Given the case does not say the purpose
    When the protocol is applied
    Then the decision is "undetermined"
    And the missing facts are "purpose"
    And the rationale quotes "For what purpose does the person need to know the information?"

  @clause.question-need-all @clause.sharing-conditions
  Scenario: Only what is needed, accurate and up to date is shared
    Given the information
      | item                 | needed for the purpose | accurate and up to date |
      | school attendance    | yes                    | yes                     |
      | family's finances    | no                     | yes                     |
      | last year's address  | yes                    | no                      |
    When the protocol is applied
    Then the decision is "share"
    And "school attendance" is shared
    And "family's finances" is withheld
    And "last year's address" is withheld
    And the rationale quotes "Does the person need to know all the information?"
