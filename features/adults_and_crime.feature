Feature: Adults whose safety is of concern, where a crime is suspected
  "Similarly, where there are concerns about the safety of an adult, their
  welfare takes precedence and information must be shared where a crime is
  suspected."

  Where no crime is suspected the protocol gives no clear answer for an adult
  who refuses: the Safeguarding Co-ordinator decides.

  Background:
    Given an adult
    And seeking consent would cause none of those harms
    And the information is needed for a criminal investigation by the Police
    And the person needs to know the information

  @clause.adult-safety-crime-must-share @clause.welfare-primary-consideration
  Scenario Outline: The adult's safety is of concern, <crime>, and <consent>
    Given there are concerns about the safety of the adult
    And <crime>
    And <consent>
    When the protocol is applied
    Then <outcome>

    Examples:
      | crime                                     | consent                     | outcome                                                |
      | a crime is suspected                      | consent has been refused    | the information may be shared without consent          |
      | a crime is suspected                      | consent has not been sought | the information may be shared without consent          |

    @clause.queries-to-coordinator
    Examples: No crime is suspected, or it is unsure: the protocol gives no clear answer for a refusal
      | crime                                     | consent                     | outcome                                                |
      | no crime is suspected                     | consent has been refused    | the query is directed to the Safeguarding Co-ordinator |
      | it is unsure whether a crime is suspected | consent has been refused    | the query is directed to the Safeguarding Co-ordinator |

    @clause.explain-openly-and-seek-consent
    Examples: No crime is suspected, and consent has not been sought
      | crime                                     | consent                     | outcome                                                |
      | no crime is suspected                     | consent has not been sought | explain openly and seek consent first                  |

  @clause.adult-safety-crime-must-share
  Scenario: A crime that is not serious still means the information must be shared
    Given there are concerns about the safety of the adult
    And a crime is suspected
    And the crime is not serious
    And consent has been refused
    When the protocol is applied
    Then the information may be shared without consent
    And the rationale cites "information must be shared where a crime is suspected"

  @clause.adult-safety-crime-must-share
  Scenario: The case does not say whether a crime is suspected
    Given there are concerns about the safety of the adult
    And the case does not say whether a crime is suspected
    And consent has been refused
    When the protocol is applied
    Then nothing may be shared until the case says whether a crime is suspected

  @clause.adult-safety-crime-must-share
  Scenario Outline: Whether the adult's safety is of concern: <concern>
    Given <concern>
    And a crime is suspected
    And consent has been refused
    When the protocol is applied
    Then <outcome>

    Examples:
      | concern                                                                        | outcome                                                |
      | there is no concern about the safety of the adult                              | the information is not shared                          |

    @clause.queries-to-coordinator
    Examples: Unsure
      | concern                                                                        | outcome                                                |
      | it is unsure whether there are concerns about the safety of the adult          | the query is directed to the Safeguarding Co-ordinator |

  @clause.adult-safety-crime-must-share
  Scenario: The case does not say whether the adult's safety is of concern
    Given the case does not say whether there are concerns about the safety of the adult
    And a crime is suspected
    And consent has been refused
    When the protocol is applied
    Then nothing may be shared until the case says whether there are concerns about the safety of the adult
