Feature: Openness and consent
  "It is important that it is explained to children, families and other
  adults, openly and honestly, what and how information will, or could be
  shared and why, and seek their understanding and, if necessary or
  appropriate, their consent."

  "The general principle is that information will only be shared with the
  consent of the subject of the information."

  Background:
    Given seeking consent would cause none of those harms
    And the information is needed for a referral by Children's Social Care Services
    And the person needs to know the information

  Scenario Outline: For <someone>, with no concern, where <consent>
    Given <someone>
    And <no concern>
    And <consent>
    When the protocol is applied
    Then <outcome>

    @clause.consent-general-principle
    Examples: Consent given or refused
      | someone  | no concern                                        | consent                     | outcome                               |
      | a child  | there is no concern of Significant Harm           | consent has been given      | the information may be shared         |
      | a child  | there is no concern of Significant Harm           | consent has been refused    | the information is not shared         |
      | an adult | there is no concern about the safety of the adult | consent has been given      | the information may be shared         |
      | an adult | there is no concern about the safety of the adult | consent has been refused    | the information is not shared         |

    @clause.consent-general-principle @clause.explain-openly-and-seek-consent
    Examples: Consent not yet sought
      | someone  | no concern                                        | consent                     | outcome                               |
      | a child  | there is no concern of Significant Harm           | consent has not been sought | explain openly and seek consent first |
      | an adult | there is no concern about the safety of the adult | consent has not been sought | explain openly and seek consent first |

  @clause.consent-general-principle
  Scenario: With consent the information is shared, and the rationale says why
    Given a child
    And there is no concern of Significant Harm
    And consent has been given
    When the protocol is applied
    Then the information may be shared
    And the rationale cites "information will only be shared with the consent of the subject of the information"

  @clause.explain-openly-and-seek-consent
  Scenario: Before consent is sought, the family is told openly what would be shared and why
    Given a child
    And there is no concern of Significant Harm
    And consent has not been sought
    When the protocol is applied
    Then explain openly and seek consent first
    And the subject is told openly what would be shared and why
    And the rationale cites "explained to children, families and other adults, openly and honestly, what and how information will, or could be shared and why"

  @clause.consent-general-principle
  Scenario: The case does not say whether there is consent
    Given a child
    And there is no concern of Significant Harm
    And the case does not say whether there is consent
    When the protocol is applied
    Then nothing may be shared until the case says whether there is consent

  @clause.explain-openly-and-seek-consent @clause.consent-general-principle
  Scenario: With consent, the subject is still told openly what is shared and why
    Given a child
    And there is no concern of Significant Harm
    And consent has been given
    When the protocol is applied
    Then the information may be shared
    And the subject is told openly what would be shared and why

  @clause.explain-openly-and-seek-consent @clause.child-significant-harm-overrides
  Scenario: Consent refused, but the child's welfare overrides it: the family is told openly what is shared and why
    Given a child
    And there is concern that the child has suffered, or is likely to suffer, Significant Harm
    And consent has been refused
    When the protocol is applied
    Then the information may be shared without consent
    And the subject is told openly what would be shared and why

  @clause.explain-openly-and-seek-consent @clause.adult-safety-crime-must-share
  Scenario: An adult's welfare overrides a refusal where a crime is suspected: they are told openly what is shared and why
    Given an adult
    And there are concerns about the safety of the adult
    And a crime is suspected
    And consent has been refused
    And the information is needed for a criminal investigation by the Police
    When the protocol is applied
    Then the information may be shared without consent
    And the subject is told openly what would be shared and why

  @clause.explain-openly-and-seek-consent @clause.exception-child-or-others-at-risk
  Scenario: Only an exception that telling would defeat keeps the subject from being told
    Given a child
    And there is concern that the child has suffered, or is likely to suffer, Significant Harm
    And consent has been refused
    And seeking consent would place the child or others at increased risk of Significant Harm
    When the protocol is applied
    Then the information may be shared without consent
    And the subject is not told before the information is shared
