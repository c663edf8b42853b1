Feature: The purposes information may be needed for
  "For example, information may be needed for a Child Protection Enquiry by
  Children's Social Care Services, and/or for a criminal investigation by the
  Police or for an adult investigation by Adult Social Care Services and/or in
  some circumstances it may be needed for action in the Courts or other legal
  proceedings or for insurance reasons."

  "For what purpose does the person need to know the information?"

  The examples are purposes, not permissions: each still needs consent, an
  exception or an overriding duty.

  Background:
    Given seeking consent would cause none of those harms
    And the person needs to know the information

  @clause.purposes-for-example @clause.consent-general-principle
  Scenario Outline: Needed for <purpose> by <recipient>, where <consent>
    Given <someone>
    And <no concern>
    And <consent>
    And the information is needed for <purpose> by <recipient>
    When the protocol is applied
    Then <outcome>

    Examples: The protocol's examples, with consent
      | someone  | no concern                                        | purpose                                         | recipient                       | consent                  | outcome                       |
      | a child  | there is no concern of Significant Harm           | a Child Protection Enquiry                      | Children's Social Care Services | consent has been given   | the information may be shared |
      | a child  | there is no concern of Significant Harm           | a criminal investigation                        | the Police                      | consent has been given   | the information may be shared |
      | an adult | there is no concern about the safety of the adult | an adult investigation                          | Adult Social Care Services      | consent has been given   | the information may be shared |
      | an adult | there is no concern about the safety of the adult | action in the Courts or other legal proceedings | the Courts                      | consent has been given   | the information may be shared |
      | an adult | there is no concern about the safety of the adult | insurance reasons                               | an insurer                      | consent has been given   | the information may be shared |

    Examples: The same purposes, consent refused
      | someone  | no concern                                        | purpose                                         | recipient                       | consent                  | outcome                       |
      | a child  | there is no concern of Significant Harm           | a criminal investigation                        | the Police                      | consent has been refused | the information is not shared |
      | an adult | there is no concern about the safety of the adult | action in the Courts or other legal proceedings | a legal adviser                 | consent has been refused | the information is not shared |
      | an adult | there is no concern about the safety of the adult | insurance reasons                               | an insurer                      | consent has been refused | the information is not shared |

  @clause.question-purpose
  Scenario: The case does not say what the information is for
    Given a child
    And there is no concern of Significant Harm
    And consent has been given
    And the information is needed for another purpose by someone else
    And the case does not say for what purpose the person needs to know the information
    When the protocol is applied
    Then nothing may be shared until the case says for what purpose the person needs to know the information
    And the rationale cites "For what purpose does the person need to know the information?"
