Feature: Safety and welfare come first
  "The safety and welfare of a child or an adult must be the primary
  consideration when making decisions on whether to share information about
  the child or adult. Where there is concern that the child has suffered, or is
  likely to suffer Significant Harm, the child's safety and welfare must be the
  overriding consideration. Similarly, where there are concerns about the
  safety of an adult, their welfare takes precedence and information must be
  shared where a crime is suspected."

  Background:
    Given seeking consent would cause none of those harms
    And the recipient needs to know is "yes"

  @clause.child-significant-harm-overrides @clause.welfare-primary-consideration
  Scenario: A child's welfare overrides a refusal of consent
    Given a case about a child
    And the harm concern is "yes"
    And the consent is "refused"
    And the purpose is "child_protection_enquiry"
    And the recipient is "childrens_social_care"
    When the protocol is applied
    Then the decision is "share_without_consent"
    And the rationale quotes "the child's safety and welfare must be the overriding consideration"
    And the rationale quotes "must be the primary consideration"

  @clause.child-significant-harm-overrides
  Scenario: An unsure concern of Significant Harm goes to the Co-ordinator
    Given a case about a child
    And the harm concern is "unsure"
    And the consent is "refused"
    And the purpose is "child_protection_enquiry"
    And the recipient is "childrens_social_care"
    When the protocol is applied
    Then the decision is "refer"

  @clause.adult-safety-crime-must-share
  Scenario: An adult whose safety is of concern, where a crime is suspected: the information must be shared
    Given a case about an adult
    And the harm concern is "yes"
    And the crime suspected is "yes"
    And the consent is "refused"
    And the purpose is "criminal_investigation"
    And the recipient is "police"
    When the protocol is applied
    Then the decision is "share_without_consent"
    And the rationale quotes "information must be shared where a crime is suspected"

  @clause.adult-safety-crime-must-share @clause.queries-to-coordinator
  Scenario: An adult whose safety is of concern refuses, no crime, no exception: the protocol gives no clear answer
    Given a case about an adult
    And the harm concern is "yes"
    And the crime suspected is "no"
    And the consent is "refused"
    And the purpose is "adult_safeguarding_enquiry"
    And the recipient is "adult_social_care"
    When the protocol is applied
    Then the decision is "refer"
    And the obligations include "direct_query_to_coordinator"

  @clause.adult-safety-crime-must-share
  Scenario: An adult whose safety is of concern, and the case does not say whether a crime is suspected
    Given a case about an adult
    And the harm concern is "yes"
    And the consent is "refused"
    And the purpose is "adult_safeguarding_enquiry"
    And the recipient is "adult_social_care"
    When the protocol is applied
    Then the decision is "undetermined"
    And the missing facts are "crime_suspected"
