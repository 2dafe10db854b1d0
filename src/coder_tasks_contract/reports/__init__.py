"""What a run leaves behind: report files, the coverage ledger, the summary and the reproduce sections.

- ``files``: where the reports go (JUnit, HTML, ledger), what each test declares.
- ``ledger``: the API coverage ledger (a package: model, inputs, criteria, coverage, markdown): documented statuses,
  the ten REST coverage criteria and the Test Coverage Level.
- ``reproduce``: the "reproduce" section of a failed test.
- ``summary``: the run summary at the end of the terminal output.
"""
