Feature: The exceptions to consent
  "The exceptions to this include where to seek consent would:"
  - "Place the child or others at increased risk of Significant Harm, or"
  - "Place an adult at significant risk of serious harm, or"
  - "Undermine the prevention, detection or prosecution of a serious crime
    (i.e. any crime which causes or is likely to cause Significant Harm to a
    child or serious harm to an adult or which involves dishonesty, unfitness
    or incompetence, or other seriously improper conduct), or"
  - "Undermine the ability to seek legal advice or enable others to seek legal
    advice or conduct legal or other regulatory proceedings."

  Where an exception applies the information is shared without consent, and
  the subject is not told first: telling them would defeat the exception.

  Background:
    Given the person needs to know the information

  @clause.consent-exceptions
  Scenario Outline: Seeking consent would <exception>, and <consent>
    Given <someone>
    And <no concern>
    And the information is needed for <purpose> by <recipient>
    And <consent>
    And seeking consent would <exception>
    When the protocol is applied
    Then the information may be shared without consent
    And the subject is not told before the information is shared
    And the rationale cites "<words>"
    And the rationale cites "The exceptions to this include where to seek consent would:"

    @clause.exception-child-or-others-at-risk
    Examples: The child or others at increased risk
      | someone  | no concern                                        | purpose                                         | recipient                       | consent                     | exception                                                                                  | words                                                          |
      | a child  | there is no concern of Significant Harm           | a referral                                      | Children's Social Care Services | consent has been refused    | place the child or others at increased risk of Significant Harm                            | Place the child or others at increased risk of Significant Harm |
      | a child  | there is no concern of Significant Harm           | a referral                                      | Children's Social Care Services | consent has not been sought | place the child or others at increased risk of Significant Harm                            | Place the child or others at increased risk of Significant Harm |

    @clause.exception-adult-at-risk
    Examples: An adult at significant risk of serious harm
      | someone  | no concern                                        | purpose                                         | recipient                       | consent                     | exception                                                                                  | words                                                          |
      | an adult | there is no concern about the safety of the adult | an adult investigation                          | Adult Social Care Services      | consent has been refused    | place an adult at significant risk of serious harm                                         | Place an adult at significant risk of serious harm             |
      | an adult | there is no concern about the safety of the adult | an adult investigation                          | Adult Social Care Services      | consent has not been sought | place an adult at significant risk of serious harm                                         | Place an adult at significant risk of serious harm             |

    @clause.exception-legal-proceedings
    Examples: Legal advice and proceedings
      | someone  | no concern                                        | purpose                                         | recipient                       | consent                     | exception                                                                                  | words                                                          |
      | a child  | there is no concern of Significant Harm           | action in the Courts or other legal proceedings | a legal adviser                 | consent has been refused    | undermine the ability to seek legal advice or conduct legal or other regulatory proceedings | conduct legal or other regulatory proceedings                  |
      | an adult | there is no concern about the safety of the adult | action in the Courts or other legal proceedings | the Courts                      | consent has not been sought | undermine the ability to seek legal advice or conduct legal or other regulatory proceedings | conduct legal or other regulatory proceedings                  |

  @clause.consent-exceptions @clause.exception-serious-crime
  Scenario Outline: Seeking consent would undermine a criminal investigation, and <seriousness>
    Given a child
    And there is no concern of Significant Harm
    And the information is needed for a criminal investigation by the Police
    And consent has been refused
    And a crime is suspected
    And seeking consent would undermine the prevention, detection or prosecution of a crime
    And <seriousness>
    When the protocol is applied
    Then <outcome>

    Examples:
      | seriousness                               | outcome                                                |
      | the crime is serious                      | the information may be shared without consent          |
      | the crime is not serious                  | the information is not shared                          |

    @clause.queries-to-coordinator
    Examples: Unsure
      | seriousness                               | outcome                                                |
      | it is unsure whether the crime is serious | the query is directed to the Safeguarding Co-ordinator |

  @clause.exception-serious-crime
  Scenario: A serious crime: the subject is not told, and the rationale says which exception
    Given an adult
    And there is no concern about the safety of the adult
    And the information is needed for a criminal investigation by the Police
    And consent has not been sought
    And a crime is suspected
    And the crime is serious
    And seeking consent would undermine the prevention, detection or prosecution of a crime
    When the protocol is applied
    Then the information may be shared without consent
    And the subject is not told before the information is shared
    And the rationale cites "Undermine the prevention, detection or prosecution of a serious crime"

  @clause.exception-serious-crime @clause.explain-openly-and-seek-consent
  Scenario: A crime that is not serious is no exception: consent is sought, openly
    Given a child
    And there is no concern of Significant Harm
    And the information is needed for a criminal investigation by the Police
    And consent has not been sought
    And a crime is suspected
    And the crime is not serious
    And seeking consent would undermine the prevention, detection or prosecution of a crime
    When the protocol is applied
    Then explain openly and seek consent first
    And the subject is told openly what would be shared and why

  @clause.exception-serious-crime
  Scenario: The case does not say whether the crime is serious
    Given a child
    And there is no concern of Significant Harm
    And the information is needed for a criminal investigation by the Police
    And consent has been refused
    And a crime is suspected
    And seeking consent would undermine the prevention, detection or prosecution of a crime
    And the case does not say whether the crime is serious
    When the protocol is applied
    Then nothing may be shared until the case says whether the crime is serious

  @clause.consent-exceptions @clause.exception-child-or-others-at-risk
  Scenario: A crime that is not serious does not cancel another exception
    Given a child
    And there is no concern of Significant Harm
    And the information is needed for a Child Protection Enquiry by Children's Social Care Services
    And consent has been refused
    And a crime is suspected
    And the crime is not serious
    And seeking consent would undermine the prevention, detection or prosecution of a crime
    And seeking consent would place the child or others at increased risk of Significant Harm
    When the protocol is applied
    Then the information may be shared without consent

  @clause.consent-exceptions @clause.consent-general-principle
  Scenario: Seeking consent would cause none of those harms: the general principle holds
    Given a child
    And there is no concern of Significant Harm
    And the information is needed for a referral by Children's Social Care Services
    And consent has been refused
    And seeking consent would cause none of those harms
    When the protocol is applied
    Then the information is not shared

  @clause.consent-exceptions
  Scenario: The case does not say what seeking consent would do
    Given a child
    And there is no concern of Significant Harm
    And the information is needed for a referral by Children's Social Care Services
    And consent has been refused
    And the case does not say what seeking consent would do
    When the protocol is applied
    Then nothing may be shared until the case says what seeking consent would do

  @clause.consent-exceptions
  Scenario: An exception applies, though the case does not say whether there is consent
    Given a child
    And there is no concern of Significant Harm
    And the information is needed for a referral by Children's Social Care Services
    And the case does not say whether there is consent
    And seeking consent would place the child or others at increased risk of Significant Harm
    When the protocol is applied
    Then the information may be shared without consent

  @clause.exception-serious-crime @clause.queries-to-coordinator
  Scenario: No crime is suspected, and yet the crime is serious: the facts contradict each other
    Given an adult
    And there is no concern about the safety of the adult
    And the information is needed for a criminal investigation by the Police
    And consent has been refused
    And no crime is suspected
    And the crime is serious
    And seeking consent would undermine the prevention, detection or prosecution of a crime
    When the protocol is applied
    Then the query is directed to the Safeguarding Co-ordinator
    And confidentiality cannot be promised
