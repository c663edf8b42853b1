Feature: Confidentiality
  "When speaking to a child or an adult in circumstances where there are
  concerns about Significant Harm to a Child or an Adult, full confidentiality
  cannot be promised as it may be necessary to share the information to
  protect others as well as the person subject to the concerns."

  Unsure and missing answers count as a concern: confidentiality is never
  promised unless the case says there is none.

  @clause.confidentiality-cannot-be-promised
  Scenario Outline: Speaking to <someone> where <concern>
    Given <someone>
    And <concern>
    When the protocol is applied
    Then <confidentiality>

    Examples:
      | someone  | concern                                                                                 | confidentiality                  |
      | a child  | there is concern that the child has suffered, or is likely to suffer, Significant Harm | confidentiality cannot be promised |
      | an adult | there are concerns about the safety of the adult                                        | confidentiality cannot be promised |
      | a child  | it is unsure whether there is concern of Significant Harm                               | confidentiality cannot be promised |
      | an adult | the case does not say whether there are concerns about the safety of the adult          | confidentiality cannot be promised |
      | a child  | there is no concern of Significant Harm                                                 | confidentiality can be offered     |
      | an adult | there is no concern about the safety of the adult                                       | confidentiality can be offered     |

  @clause.confidentiality-cannot-be-promised
  Scenario: The practitioner is told why confidentiality cannot be promised
    Given an adult
    And there are concerns about the safety of the adult
    When the protocol is applied
    Then confidentiality cannot be promised
    And the rationale cites "full confidentiality cannot be promised as it may be necessary to share the information to protect others"
