Feature: A ground for sharing without consent reaches only the purposes and recipients it serves
  "Where information is shared, those doing so must ensure it is accurate and
  up-to-date, necessary for the purpose for which they are sharing it,
  minimised, shared only with those people who need to see it, and shared
  securely."

  "For what purpose does the person need to know the information?"

  "For example, information may be needed for a Child Protection Enquiry by
  Children's Social Care Services, and/or for a criminal investigation by the
  Police or for an adult investigation by Adult Social Care Services and/or in
  some circumstances it may be needed for action in the Courts or other legal
  proceedings or for insurance reasons."

  "This may be the case where making a referral to Children's Social Care
  Services, Adult Social Care Services or the Police."

  Each exception to consent, and each overriding welfare duty, names in
  grounds.yaml the purposes it serves and the recipients that fit each. A case
  outside the scope of every ground that applies is not shared without
  consent: the query goes to the Safeguarding Co-ordinator. With consent, the
  questions before sharing decide as usual.

  Background:
    Given the person needs to know the information

  @clause.child-significant-harm-overrides @clause.sharing-conditions @clause.question-purpose
  Scenario Outline: A child at risk of Significant Harm, consent refused, the information needed for <purpose> by <recipient>
    Given a child
    And there is concern that the child has suffered, or is likely to suffer, Significant Harm
    And seeking consent would cause none of those harms
    And consent has been refused
    And the information is needed for <purpose> by <recipient>
    When the protocol is applied
    Then <outcome>

    Examples: The purposes that serve the child's safety
      | purpose                    | recipient                       | outcome                                       |
      | a Child Protection Enquiry | Children's Social Care Services | the information may be shared without consent |
      | a criminal investigation   | the Police                      | the information may be shared without consent |
      | a referral                 | Children's Social Care Services | the information may be shared without consent |
      | a referral                 | the Police                      | the information may be shared without consent |

    @clause.queries-to-coordinator
    Examples: Purposes and recipients the protocol does not tie to the child's safety
      | purpose                                         | recipient                       | outcome                                                |
      | insurance reasons                               | an insurer                      | the query is directed to the Safeguarding Co-ordinator |
      | action in the Courts or other legal proceedings | the Courts                      | the query is directed to the Safeguarding Co-ordinator |
      | a Child Protection Enquiry                      | the Police                      | the query is directed to the Safeguarding Co-ordinator |
      | an adult investigation                          | Adult Social Care Services      | the query is directed to the Safeguarding Co-ordinator |
      | another purpose                                 | someone else                    | the query is directed to the Safeguarding Co-ordinator |

  @clause.child-significant-harm-overrides @clause.sharing-conditions @clause.queries-to-coordinator
  Scenario: An insurer, for insurance reasons, against the family's refusal, is not told yes
    Given a child
    And there is concern that the child has suffered, or is likely to suffer, Significant Harm
    And seeking consent would cause none of those harms
    And consent has been refused
    And the information is needed for insurance reasons by an insurer
    When the protocol is applied
    Then the query is directed to the Safeguarding Co-ordinator
    And confidentiality cannot be promised
    And the rationale cites "the child's safety and welfare must be the overriding consideration"
    And the rationale cites "necessary for the purpose for which they are sharing it"

  @clause.child-significant-harm-overrides @clause.queries-to-coordinator
  Scenario: Consent not yet sought does not make an insurer's purpose the child's
    Given a child
    And there is concern that the child has suffered, or is likely to suffer, Significant Harm
    And seeking consent would cause none of those harms
    And consent has not been sought
    And the information is needed for insurance reasons by an insurer
    When the protocol is applied
    Then the query is directed to the Safeguarding Co-ordinator

  @clause.consent-general-principle @clause.purposes-for-example
  Scenario: With consent, an insurer who needs to know is shared with
    Given a child
    And there is concern that the child has suffered, or is likely to suffer, Significant Harm
    And seeking consent would cause none of those harms
    And consent has been given
    And the information is needed for insurance reasons by an insurer
    When the protocol is applied
    Then the information may be shared

  @clause.adult-safety-crime-must-share @clause.sharing-conditions
  Scenario Outline: An adult whose safety is of concern, a crime suspected, consent refused, for <purpose> by <recipient>
    Given an adult
    And there are concerns about the safety of the adult
    And a crime is suspected
    And seeking consent would cause none of those harms
    And consent has been refused
    And the information is needed for <purpose> by <recipient>
    When the protocol is applied
    Then <outcome>

    Examples: The purposes that serve the adult's safety
      | purpose                  | recipient                  | outcome                                       |
      | an adult investigation   | Adult Social Care Services | the information may be shared without consent |
      | a criminal investigation | the Police                 | the information may be shared without consent |
      | a referral               | Adult Social Care Services | the information may be shared without consent |

    @clause.queries-to-coordinator
    Examples: Purposes and recipients the protocol does not tie to the adult's safety
      | purpose                                         | recipient                       | outcome                                                |
      | insurance reasons                               | an insurer                      | the query is directed to the Safeguarding Co-ordinator |
      | a Child Protection Enquiry                      | Children's Social Care Services | the query is directed to the Safeguarding Co-ordinator |
      | action in the Courts or other legal proceedings | the Courts                      | the query is directed to the Safeguarding Co-ordinator |

  @clause.consent-exceptions @clause.sharing-conditions @clause.exceptions-when-referring
  Scenario Outline: Seeking consent would <exception>, consent refused, for <purpose> by <recipient>
    Given <someone>
    And <no concern>
    And consent has been refused
    And seeking consent would <exception>
    And the information is needed for <purpose> by <recipient>
    When the protocol is applied
    Then <outcome>

    @clause.exception-child-or-others-at-risk
    Examples: The child or others at increased risk
      | someone | no concern                              | exception                                                       | purpose                                         | recipient                       | outcome                                                |
      | a child | there is no concern of Significant Harm | place the child or others at increased risk of Significant Harm | a Child Protection Enquiry                      | Children's Social Care Services | the information may be shared without consent          |
      | a child | there is no concern of Significant Harm | place the child or others at increased risk of Significant Harm | a referral                                      | Adult Social Care Services      | the information may be shared without consent          |
      | a child | there is no concern of Significant Harm | place the child or others at increased risk of Significant Harm | insurance reasons                               | an insurer                      | the query is directed to the Safeguarding Co-ordinator |
      | a child | there is no concern of Significant Harm | place the child or others at increased risk of Significant Harm | action in the Courts or other legal proceedings | the Courts                      | the query is directed to the Safeguarding Co-ordinator |

    @clause.exception-adult-at-risk
    Examples: An adult at significant risk of serious harm
      | someone  | no concern                                        | exception                                          | purpose                | recipient                  | outcome                                                |
      | an adult | there is no concern about the safety of the adult | place an adult at significant risk of serious harm | an adult investigation | Adult Social Care Services | the information may be shared without consent          |
      | an adult | there is no concern about the safety of the adult | place an adult at significant risk of serious harm | insurance reasons      | an insurer                 | the query is directed to the Safeguarding Co-ordinator |

    @clause.exception-legal-proceedings
    Examples: Legal advice and proceedings
      | someone  | no concern                                        | exception                                                                                   | purpose                                         | recipient                       | outcome                                                |
      | an adult | there is no concern about the safety of the adult | undermine the ability to seek legal advice or conduct legal or other regulatory proceedings | action in the Courts or other legal proceedings | a legal adviser                 | the information may be shared without consent          |
      | a child  | there is no concern of Significant Harm           | undermine the ability to seek legal advice or conduct legal or other regulatory proceedings | a Child Protection Enquiry                      | Children's Social Care Services | the query is directed to the Safeguarding Co-ordinator |

  @clause.consent-exceptions @clause.exception-serious-crime @clause.sharing-conditions
  Scenario Outline: Seeking consent would undermine the investigation of a serious crime, for <purpose> by <recipient>
    Given an adult
    And there is no concern about the safety of the adult
    And consent has been refused
    And a crime is suspected
    And the crime is serious
    And seeking consent would undermine the prevention, detection or prosecution of a crime
    And the information is needed for <purpose> by <recipient>
    When the protocol is applied
    Then <outcome>

    Examples: Its prevention, detection and prosecution
      | purpose                                         | recipient  | outcome                                       |
      | a criminal investigation                        | the Police | the information may be shared without consent |
      | action in the Courts or other legal proceedings | the Courts | the information may be shared without consent |

    @clause.queries-to-coordinator
    Examples: Not a purpose of the exception
      | purpose           | recipient  | outcome                                                |
      | insurance reasons | an insurer | the query is directed to the Safeguarding Co-ordinator |

  @clause.consent-exceptions @clause.exception-legal-proceedings @clause.exception-child-or-others-at-risk
  Scenario: Two exceptions apply and one of them reaches the Courts: the information may be shared without consent
    Given a child
    And there is no concern of Significant Harm
    And consent has been refused
    And seeking consent would place the child or others at increased risk of Significant Harm
    And seeking consent would undermine the ability to seek legal advice or conduct legal or other regulatory proceedings
    And the information is needed for action in the Courts or other legal proceedings by the Courts
    When the protocol is applied
    Then the information may be shared without consent
    And the subject is not told before the information is shared
    And the rationale cites "conduct legal or other regulatory proceedings"

  @clause.exception-child-or-others-at-risk @clause.queries-to-coordinator
  Scenario: The exception that does not reach the purpose is named
    Given a child
    And there is no concern of Significant Harm
    And consent has been refused
    And seeking consent would place the child or others at increased risk of Significant Harm
    And the information is needed for insurance reasons by an insurer
    When the protocol is applied
    Then the query is directed to the Safeguarding Co-ordinator
    And the rationale cites "Place the child or others at increased risk of Significant Harm"
    And the rationale cites "necessary for the purpose for which they are sharing it"
