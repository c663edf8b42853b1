Feature: Queries to the Safeguarding Co-ordinator
  "Any queries about information sharing must be directed to the Safeguarding
  Co-ordinator."

  Where the outcome turns on an answer nobody is sure of, the query goes to
  the Safeguarding Co-ordinator, who records the final decision with its
  rationale in the case file. These scenarios run against the HTTP service.

  Background:
    Given a child
    And there is no concern of Significant Harm
    And the information is needed for a criminal investigation by the Police
    And the person needs to know the information
    And consent has been refused
    And a crime is suspected
    And seeking consent would undermine the prevention, detection or prosecution of a crime
    And it is unsure whether the crime is serious

  @clause.queries-to-coordinator @clause.record-decisions
  Scenario: The Co-ordinator records the final decision, with the rationale, in the case file
    When the decision is recorded in the case file
    Then the query is directed to the Safeguarding Co-ordinator
    When the Safeguarding Co-ordinator records the final decision "the information may be shared without consent", because "The suspected fraud involves dishonesty: a serious crime. Asking would warn the suspect."
    Then the case file shows the Co-ordinator's final decision "the information may be shared without consent", because "The suspected fraud involves dishonesty: a serious crime. Asking would warn the suspect."

  @clause.queries-to-coordinator @clause.record-decisions
  Scenario: The Co-ordinator's final decision needs its rationale
    When the decision is recorded in the case file
    And the Safeguarding Co-ordinator records the final decision "the information is not shared" without a rationale
    Then the review is refused, asking for the rationale

  @clause.queries-to-coordinator
  Scenario: The Co-ordinator's final decision is one that can be acted on
    When the decision is recorded in the case file
    And the Safeguarding Co-ordinator records the final decision "the query is directed to the Safeguarding Co-ordinator", because "Not sure."
    Then the review is refused, asking for a decision that can be acted on
