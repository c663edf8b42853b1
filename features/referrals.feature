Feature: Referrals
  "This may be the case where making a referral to Children's Social Care
  Services, Adult Social Care Services or the Police."

  A referral is where the exceptions to consent tend to arise; it is not an
  exception in itself.

  Background:
    Given the person needs to know the information
    And consent has been refused

  @clause.exceptions-when-referring @clause.consent-exceptions
  Scenario Outline: A referral to <recipient> where seeking consent would <exception>
    Given <someone>
    And <no concern>
    And the information is needed for a referral by <recipient>
    And seeking consent would <exception>
    When the protocol is applied
    Then the information may be shared without consent
    And the subject is not told before the information is shared

    Examples:
      | someone  | no concern                                        | recipient                       | exception                                                       |
      | a child  | there is no concern of Significant Harm           | Children's Social Care Services | place the child or others at increased risk of Significant Harm |
      | an adult | there is no concern about the safety of the adult | Adult Social Care Services      | place an adult at significant risk of serious harm              |
      | a child  | there is no concern of Significant Harm           | the Police                      | place the child or others at increased risk of Significant Harm |

  @clause.exceptions-when-referring @clause.consent-general-principle
  Scenario Outline: A referral to <recipient> where no exception applies
    Given <someone>
    And <no concern>
    And the information is needed for a referral by <recipient>
    And seeking consent would cause none of those harms
    When the protocol is applied
    Then the information is not shared

    Examples:
      | someone  | no concern                                        | recipient                       |
      | a child  | there is no concern of Significant Harm           | Children's Social Care Services |
      | an adult | there is no concern about the safety of the adult | the Police                      |
