Feature: Welfare is the primary and the overriding consideration
  "The safety and welfare of a child or an adult must be the primary
  consideration when making decisions on whether to share information about
  the child or adult."

  "Where there is concern that the child has suffered, or is likely to suffer
  Significant Harm, the child's safety and welfare must be the overriding
  consideration."

  Background:
    Given a child
    And seeking consent would cause none of those harms
    And the information is needed for a Child Protection Enquiry by Children's Social Care Services
    And the person needs to know the information

  @clause.welfare-primary-consideration @clause.child-significant-harm-overrides
  Scenario Outline: A child where <concern>, and <consent>
    Given <concern>
    And <consent>
    When the protocol is applied
    Then <outcome>

    Examples:
      | concern                                                                                 | consent                     | outcome                                                |
      | there is concern that the child has suffered, or is likely to suffer, Significant Harm | consent has been refused    | the information may be shared without consent          |
      | there is concern that the child has suffered, or is likely to suffer, Significant Harm | consent has not been sought | the information may be shared without consent          |
      | there is no concern of Significant Harm                                                 | consent has been refused    | the information is not shared                          |

    @clause.queries-to-coordinator
    Examples: Unsure
      | concern                                                   | consent                     | outcome                                                |
      | it is unsure whether there is concern of Significant Harm | consent has been refused    | the query is directed to the Safeguarding Co-ordinator |
      | it is unsure whether there is concern of Significant Harm | consent has not been sought | the query is directed to the Safeguarding Co-ordinator |

  @clause.child-significant-harm-overrides @clause.welfare-primary-consideration
  Scenario: The rationale names the child's welfare as the overriding consideration
    Given there is concern that the child has suffered, or is likely to suffer, Significant Harm
    And consent has been refused
    When the protocol is applied
    Then the information may be shared without consent
    And the rationale cites "the child's safety and welfare must be the overriding consideration"
    And the rationale cites "must be the primary consideration"

  @clause.child-significant-harm-overrides
  Scenario: The case does not say whether there is concern of Significant Harm
    Given the case does not say whether there is concern of Significant Harm
    And consent has been refused
    When the protocol is applied
    Then nothing may be shared until the case says whether there is concern of Significant Harm

  @clause.child-significant-harm-overrides @clause.exception-serious-crime
  Scenario: The child's welfare overrides, whatever an unsure answer about a crime would have meant
    Given there is concern that the child has suffered, or is likely to suffer, Significant Harm
    And consent has been refused
    And a crime is suspected
    And it is unsure whether the crime is serious
    And seeking consent would undermine the prevention, detection or prosecution of a crime
    When the protocol is applied
    Then the information may be shared without consent

  @clause.child-significant-harm-overrides @clause.consent-exceptions
  Scenario: The child's welfare overrides, but the case does not say what seeking consent would do: the family is not told first
    Given there is concern that the child has suffered, or is likely to suffer, Significant Harm
    And consent has been refused
    And the case does not say what seeking consent would do
    When the protocol is applied
    Then the information may be shared without consent
    And the subject is not told before the information is shared
