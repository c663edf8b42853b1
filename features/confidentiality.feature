Feature: Confidentiality
  "When speaking to a child or an adult in circumstances where there are
  concerns about Significant Harm to a Child or an Adult, full confidentiality
  cannot be promised as it may be necessary to share the information to
  protect others as well as the person subject to the concerns."

  Unsure and missing answers count as a concern: confidentiality is never
  promised unless the case says there is none. And where the answer may be to
  share without consent (an exception to consent applies or may apply),
  confidentiality cannot be promised either: it can be offered only where
  nothing in the case can lead to sharing without consent.

  Background:
    Given seeking consent would cause none of those harms

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

  @clause.confidentiality-cannot-be-promised @clause.consent-exceptions
  Scenario Outline: No concern of harm, but seeking consent would <exception>
    Given <someone>
    And <no concern>
    And seeking consent would <exception>
    When the protocol is applied
    Then confidentiality cannot be promised
    And the rationale cites "full confidentiality cannot be promised as it may be necessary to share the information"

    Examples:
      | someone  | no concern                                        | exception                                                                                   |
      | a child  | there is no concern of Significant Harm           | place the child or others at increased risk of Significant Harm                             |
      | an adult | there is no concern about the safety of the adult | place an adult at significant risk of serious harm                                          |
      | an adult | there is no concern about the safety of the adult | undermine the ability to seek legal advice or conduct legal or other regulatory proceedings |

  @clause.confidentiality-cannot-be-promised @clause.exception-serious-crime
  Scenario: A serious crime with no safety concern: the information may be shared without consent, so confidentiality cannot be promised
    Given an adult
    And there is no concern about the safety of the adult
    And a crime is suspected
    And the crime is serious
    And seeking consent would undermine the prevention, detection or prosecution of a crime
    And consent has been refused
    And the information is needed for a criminal investigation by the Police
    And the person needs to know the information
    When the protocol is applied
    Then the information may be shared without consent
    And confidentiality cannot be promised

  @clause.confidentiality-cannot-be-promised
  Scenario: The case does not say what seeking consent would do, so confidentiality cannot be promised
    Given a child
    And there is no concern of Significant Harm
    And the case does not say what seeking consent would do
    When the protocol is applied
    Then confidentiality cannot be promised

  @clause.confidentiality-cannot-be-promised @clause.exception-serious-crime
  Scenario: A crime that is not serious can lead to no sharing without consent, so confidentiality can be offered
    Given an adult
    And there is no concern about the safety of the adult
    And a crime is suspected
    And the crime is not serious
    And seeking consent would undermine the prevention, detection or prosecution of a crime
    When the protocol is applied
    Then confidentiality can be offered
