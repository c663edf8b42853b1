Feature: How information is shared
  "Where information is shared, those doing so must ensure it is accurate and
  up-to-date, necessary for the purpose for which they are sharing it,
  minimised, shared only with those people who need to see it, and shared
  securely."

  Background:
    Given a child
    And there is no concern of Significant Harm
    And seeking consent would cause none of those harms
    And the information is needed for a referral by Children's Social Care Services
    And the person needs to know the information

  @clause.sharing-conditions
  Scenario Outline: Information shared <how> carries every condition
    Given <concern>
    And <consent>
    When the protocol is applied
    Then <outcome>
    And whoever shares it must ensure it is accurate and up-to-date, necessary for the purpose for which they are sharing it, minimised, shared only with those people who need to see it, and shared securely

    Examples:
      | how             | concern                                                                                 | consent                  | outcome                                       |
      | with consent    | there is no concern of Significant Harm                                                 | consent has been given   | the information may be shared                 |
      | without consent | there is concern that the child has suffered, or is likely to suffer, Significant Harm | consent has been refused | the information may be shared without consent |

  @clause.sharing-conditions
  Scenario: Nothing is shared, so no conditions are set
    Given consent has been refused
    When the protocol is applied
    Then the information is not shared
    And there are no conditions, because nothing is shared

  @clause.sharing-conditions
  Scenario: A means of sharing that is not secure
    Given consent has been given
    And the means of sharing is not secure
    When the protocol is applied
    Then the information may be shared
    And the means of sharing given must not be used, citing "and shared securely"

  @clause.sharing-conditions
  Scenario Outline: A piece of information that is <state>
    Given consent has been given
    And the information to be shared is
      | item   | needed for the purpose | accurate and up to date |
      | <item> | yes                    | <accurate>              |
    When the protocol is applied
    Then the information may be shared
    And <result>

    Examples:
      | state                         | item                 | accurate  | result                                                                     |
      | accurate and up to date       | school attendance    | yes       | "school attendance" is shared                                             |
      | out of date                   | last year's address  | no        | "last year's address" is withheld, citing "accurate and up-to-date"       |
      | not known to be up to date    | an old referral note | not known | "an old referral note" is withheld, citing "accurate and up-to-date"      |

  @clause.sharing-conditions
  Scenario: Pieces that pass every question are still not shared when the information is not shared
    Given consent has been refused
    And the information to be shared is
      | item              | needed for the purpose | accurate and up to date |
      | school attendance | yes                    | yes                     |
    When the protocol is applied
    Then the information is not shared

  @clause.sharing-conditions
  Scenario: The case does not say who would receive the information
    Given consent has been given
    And the case does not say who would receive the information
    When the protocol is applied
    Then nothing may be shared until the case says who would receive the information
    And the rationale cites "shared only with those people who need to see it"
