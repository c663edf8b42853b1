"""`infoshare interview`: the questions one by one (numbers from a pipe), the verdict, and --record."""

from __future__ import annotations

import threading

from click.testing import CliRunner
from werkzeug.serving import make_server

from infoshare.service.cli.main import main


def test_the_terminal_interview_asks_until_settled_and_records(app, tokens, monkeypatch, tmp_path):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        monkeypatch.setenv("INFOSHARE_KEY", tokens["case-system"])
        # a child; seeking consent would place the child at risk; needs to know: yes; consent: given;
        # a crime is suspected; purpose 1 (child protection enquiry); recipient 1 (children's social care)
        answers = "1\n" * 7
        url = f"http://127.0.0.1:{server.server_port}"
        result = CliRunner().invoke(
            main, ["interview", "--record", "TERM-1", "--requested-by", "j.smith", "--url", url], input=answers
        )
    finally:
        server.shutdown()
    assert result.exit_code == 0, result.output
    assert "Is the information about a child or an adult?" in result.output
    # with consent given, whether there is a harm concern changes nothing the answer says: never asked
    assert "Significant Harm?" not in result.output.split("Decision:")[0].split("Would seeking consent")[0]
    assert "questions asked." in result.output and "Decision: share" in result.output
    assert "Recorded as decision 1 in case file TERM-1." in result.output
    with app.test_client() as client:
        case_file = client.get(
            "/v1/cases/TERM-1/decisions", headers={"Authorization": f"Bearer {tokens['case-system']}"}
        ).json
    assert case_file["decisions"][0]["decision"] == "share"
    assert case_file["decisions"][0]["requested_by"] == "j.smith"


def test_a_wrong_answer_is_asked_again_and_known_facts_are_not_asked(tmp_path):
    known = tmp_path / "facts.json"
    known.write_text(
        '{"subject": "adult", "harm_concern": "yes", "recipient_needs_to_know": "no", "crime_suspected": "yes"}'
    )
    result = CliRunner().invoke(main, ["interview", "--facts", str(known)], input="")
    assert result.exit_code == 0, result.output
    assert "0 questions asked." in result.output and "Decision: do_not_share" in result.output
    result = CliRunner().invoke(main, ["interview"], input="7\nx\n2\n" + "2\n" * 6)
    assert "Give 1-2." in result.output
    assert "No, they do not need to know it" in result.output
