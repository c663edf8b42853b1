Feature: Recording decisions
  "The Safeguarding Co-ordinator will record in the case file, full details of
  all decisions regarding information sharing, including the rationale."

  These scenarios record through the HTTP service and read the case file back.

  Background:
    Given a child
    And seeking consent would cause none of those harms
    And the information is needed for a referral by Children's Social Care Services
    And the person needs to know the information

  @clause.record-decisions
  Scenario Outline: Every decision is recorded with its rationale: <outcome>
    Given <concern>
    And <consent>
    When the decision is recorded in the case file
    Then <outcome>
    And the Safeguarding Co-ordinator is to record the decision in the case file with its rationale
    And the case file holds the decision with its full rationale

    Examples:
      | concern                                                                                 | consent                     | outcome                                                |
      | there is no concern of Significant Harm                                                 | consent has been given      | the information may be shared                          |
      | there is concern that the child has suffered, or is likely to suffer, Significant Harm | consent has been refused    | the information may be shared without consent          |
      | there is no concern of Significant Harm                                                 | consent has not been sought | explain openly and seek consent first                  |
      | there is no concern of Significant Harm                                                 | consent has been refused    | the information is not shared                          |
      | it is unsure whether there is concern of Significant Harm                               | consent has been refused    | the query is directed to the Safeguarding Co-ordinator |

  @clause.record-decisions
  Scenario: A decision that waits for a missing fact is recorded too
    Given there is no concern of Significant Harm
    And the case does not say whether there is consent
    When the decision is recorded in the case file
    Then nothing may be shared until the case says whether there is consent
    And the case file holds the decision with its full rationale

  @clause.record-decisions
  Scenario: Every decision on a case stays in its case file, oldest first
    Given there is no concern of Significant Harm
    And consent has not been sought
    And the decision is recorded in the case file
    And consent has been given
    When the decision is recorded in the case file
    Then the information may be shared
    And the case file holds, oldest first, "explain openly and seek consent first" then "the information may be shared"
