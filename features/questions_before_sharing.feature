Feature: The questions before sharing
  "Before sharing information, the following questions should be considered:
  Does the person need to know the information?"

  "Does the person need to know all the information?"

  "For what purpose does the person need to know the information?"

  Background:
    Given a child
    And seeking consent would cause none of those harms
    And the information is needed for a referral by Children's Social Care Services

  @clause.question-need-to-know
  Scenario Outline: Does the person need to know the information? <answer>
    Given there is no concern of Significant Harm
    And consent has been given
    And <answer>
    When the protocol is applied
    Then <outcome>

    Examples:
      | answer                                                          | outcome                                                |
      | the person needs to know the information                        | the information may be shared                          |
      | the person does not need to know the information                | the information is not shared                          |

    @clause.queries-to-coordinator
    Examples: Unsure
      | answer                                                          | outcome                                                |
      | it is unsure whether the person needs to know the information   | the query is directed to the Safeguarding Co-ordinator |

  @clause.question-need-to-know
  Scenario: A person who does not need to know gets nothing, even where the child's welfare overrides consent
    Given there is concern that the child has suffered, or is likely to suffer, Significant Harm
    And consent has been refused
    And the person does not need to know the information
    When the protocol is applied
    Then the information is not shared
    And the rationale cites "Does the person need to know the information?"

  @clause.question-need-to-know
  Scenario: The case does not say whether the person needs to know
    Given there is no concern of Significant Harm
    And consent has been given
    And the case does not say whether the person needs to know the information
    When the protocol is applied
    Then nothing may be shared until the case says whether the person needs to know the information

  @clause.question-need-all
  Scenario Outline: Does the person need to know all the information? A piece <state>
    Given there is no concern of Significant Harm
    And consent has been given
    And the person needs to know the information
    And the information to be shared is
      | item   | needed for the purpose | accurate and up to date |
      | <item> | <needed>               | yes                     |
    When the protocol is applied
    Then the information may be shared
    And <result>

    Examples:
      | state                          | item                 | needed    | result                                                                                          |
      | needed for the purpose         | school attendance    | yes       | "school attendance" is shared                                                                  |
      | not needed for the purpose     | the family's debts   | no        | "the family's debts" is withheld, citing "Does the person need to know all the information?"    |
      | not known to be needed         | a sibling's school   | not known | "a sibling's school" is withheld, citing "Does the person need to know all the information?"    |

  @clause.question-need-all @clause.sharing-conditions
  Scenario: Only what is needed, accurate and up to date is shared
    Given there is no concern of Significant Harm
    And consent has been given
    And the person needs to know the information
    And the information to be shared is
      | item                | needed for the purpose | accurate and up to date |
      | school attendance   | yes                    | yes                     |
      | the family's debts  | no                     | yes                     |
      | last year's address | yes                    | no                      |
    When the protocol is applied
    Then the information may be shared
    And "school attendance" is shared
    And "the family's debts" is withheld, citing "Does the person need to know all the information?"
    And "last year's address" is withheld, citing "accurate and up-to-date"

  @clause.question-purpose
  Scenario: For what purpose? The case does not say
    Given there is no concern of Significant Harm
    And consent has been given
    And the person needs to know the information
    And the case does not say for what purpose the person needs to know the information
    When the protocol is applied
    Then nothing may be shared until the case says for what purpose the person needs to know the information
    And the rationale cites "For what purpose does the person need to know the information?"
