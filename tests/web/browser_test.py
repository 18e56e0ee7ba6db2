#!/usr/bin/python3
"""The web page in a real browser (headless Chromium through chromedriver and Selenium) against a
real daemon on loopback: ephemeral ports, a temp state dir, an operator token file.

  flow       an account token signs in and builds poll_complete -> create_contact -> send_sms through
             the form: a schema error shown beside its field is fixed, the draft is tested on a sample
             event, saved; a real poll_complete published over ZeroMQ gives the SMS on the outbound
             socket and the run in the page's history. Screenshots of each step at 1280 and 360 px.
  isolation  an account token cannot see another account, in the API or the page.

Every wait is bounded; every process started is stopped. Without chromium, chromedriver or
python3-selenium the test fails naming what is missing (scripts/setup installs them).
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

MISSING = [name for name in ("chromium", "chromedriver") if not shutil.which(name)]
try:
    from selenium import webdriver
    from selenium.common.exceptions import TimeoutException
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support import expected_conditions as EC
    from selenium.webdriver.support.ui import Select, WebDriverWait
except ImportError:
    MISSING.append("python3-selenium")

OPERATOR_TOKEN = "op-" + "5" * 40
WAIT_S = 30
POLL_EVENT = {"account_key": "acct1", "conversation_key": "poll1", "conversation_type": "vxpolls",
              "event_type": "poll_complete",
              "event_data": {"from_addr": "+27831234567", "answers": {"name": "Thandi"}}}


class Daemon:
    """vumi-dispatcher run on a temp config; its log lines are collected by a reader thread."""

    def __init__(self, exe, plugins, workdir):
        self.exe = exe
        token_file = os.path.join(workdir, "operator.token")
        with open(token_file, "w") as f:
            f.write(OPERATOR_TOKEN + "\n")
        os.chmod(token_file, 0o600)
        config = {
            "ingest": {"bind": "tcp://127.0.0.1:0"},
            "outbound": {"bind": "tcp://127.0.0.1:*"},
            "state_dir": os.path.join(workdir, "state"),
            "plugin_path": [plugins],
            "admin": {"bind": "127.0.0.1:0", "token_file": token_file},
        }
        self.config = os.path.join(workdir, "config.json")
        with open(self.config, "w") as f:
            json.dump(config, f)
        self.lines = []
        self.lock = threading.Lock()
        self.proc = subprocess.Popen([exe, "run", "-c", self.config, "--status-interval", "0"],
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        threading.Thread(target=self._read, daemon=True).start()
        ingest = outbound = admin = None
        deadline = time.monotonic() + WAIT_S
        while time.monotonic() < deadline and not (ingest and admin):
            for line in self.log():
                if "listening: ingest " in line:
                    rest = line.split("listening: ingest ", 1)[1]
                    ingest, outbound = rest.split(", outbound ")
                    ingest, outbound = ingest.strip(), outbound.strip()
                if "admin API: http://" in line:
                    admin = line.split("admin API: http://", 1)[1].split("/", 1)[0]
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        if not (ingest and admin):
            self.stop()
            raise AssertionError("daemon did not start:\n" + "\n".join(self.log()))
        self.ingest, self.outbound, self.base = ingest, outbound, "http://" + admin

    def _read(self):
        for line in self.proc.stdout:
            with self.lock:
                self.lines.append(line.rstrip("\n"))

    def log(self):
        with self.lock:
            return list(self.lines)

    def wait_for_log(self, text, after=0):
        deadline = time.monotonic() + WAIT_S
        while time.monotonic() < deadline:
            if any(text in line for line in self.log()[after:]):
                return
            time.sleep(0.05)
        raise AssertionError(f"daemon never logged {text!r}:\n" + "\n".join(self.log()[-30:]))

    def api(self, method, path, body=None, token=OPERATOR_TOKEN):
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.base + path, data=data, method=method,
                                         headers={"Authorization": "Bearer " + token,
                                                  "Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                text = response.read().decode()
                return response.status, json.loads(text) if text else None
        except urllib.error.HTTPError as e:
            text = e.read().decode()
            return e.code, json.loads(text) if text else None

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        return self.proc.returncode


class Browser:
    def __init__(self, workdir, screenshots):
        options = webdriver.ChromeOptions()
        options.binary_location = shutil.which("chromium")
        for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                    "--no-first-run", "--disable-extensions", "--window-size=1280,900",
                    f"--user-data-dir={os.path.join(workdir, 'chromium')}"):
            options.add_argument(arg)
        self.driver = webdriver.Chrome(service=Service(shutil.which("chromedriver")), options=options)
        self.driver.set_page_load_timeout(WAIT_S)
        self.driver.set_script_timeout(WAIT_S)
        self.wait = WebDriverWait(self.driver, WAIT_S)
        self.screenshots = screenshots
        if screenshots:
            os.makedirs(screenshots, exist_ok=True)

    def shot(self, name):
        """name-desktop.png at 1280 px and name-360.png at 360 px, each the whole page."""
        if not self.screenshots:
            return
        d = self.driver
        unlabelled = d.execute_script("""
            return [...document.querySelectorAll('input, select, textarea, button')].filter((c) => {
              if (c.type === 'hidden' || !c.offsetParent) return false;
              if (c.tagName === 'BUTTON') return !c.textContent.trim() && !c.getAttribute('aria-label');
              return !c.getAttribute('aria-label') && !c.getAttribute('aria-labelledby') &&
                     !(c.id && document.querySelector(`label[for="${CSS.escape(c.id)}"]`));
            }).map((c) => c.outerHTML.slice(0, 120));""")
        assert not unlabelled, f"{name}: controls without a label: {unlabelled}"
        for width, suffix in ((1280, "desktop"), (360, "360")):
            d.set_window_size(width, 900)
            height = d.execute_script("return Math.max(document.body.scrollHeight, document.documentElement.scrollHeight)")
            d.set_window_size(width, min(max(int(height) + 140, 700), 6000))
            # Wide content at 360 px would show as a horizontal scrollbar: the page must fit.
            overflow = d.execute_script("return document.documentElement.scrollWidth - document.documentElement.clientWidth")
            assert overflow <= 1, f"{name}: the page is {overflow} px wider than {width} px"
            d.save_screenshot(os.path.join(self.screenshots, f"{name}-{suffix}.png"))
        d.set_window_size(1280, 900)

    def find(self, css, root=None):
        return self.wait.until(lambda _: (root or self.driver).find_element(By.CSS_SELECTOR, css))

    def text_in(self, css, text):
        try:
            self.wait.until(EC.text_to_be_present_in_element((By.CSS_SELECTOR, css), text))
        except TimeoutException:
            body = self.driver.find_element(By.TAG_NAME, "body").text
            raise AssertionError(f"{text!r} never appeared in {css}; the page shows:\n{body}") from None

    def value_in(self, css, text):
        try:
            self.wait.until(EC.text_to_be_present_in_element_value((By.CSS_SELECTOR, css), text))
        except TimeoutException:
            value = self.driver.find_element(By.CSS_SELECTOR, css).get_attribute("value")
            raise AssertionError(f"{text!r} never appeared in {css}'s value: {value}") from None

    def label(self, root, text):
        """The control labelled text inside root."""
        for label in root.find_elements(By.TAG_NAME, "label"):
            if label.text.strip().rstrip(" *") == text:
                return self.driver.find_element(By.ID, label.get_attribute("for"))
        raise AssertionError(f"no control labelled {text!r}")

    def field(self, root, rel):
        return root.find_element(By.CSS_SELECTOR, f'[data-rel="{rel}"]')

    def quit(self):
        self.driver.quit()


def sign_in(b, base, token):
    b.driver.get(base + "/")
    box = b.find("#token")
    box.send_keys(token)
    box.send_keys(Keys.ENTER)


def pick_template(b, field, pointer):
    picker = field.find_element(By.CSS_SELECTOR, "select.picker")
    values = [o.get_attribute("value") for o in picker.find_elements(By.TAG_NAME, "option")]
    assert pointer in values, f"template {pointer} not offered; offered: {values}"
    Select(picker).select_by_value(pointer)


def setup_accounts(daemon):
    for key, conv in (("acct1", {"poll1": "vxpolls"}), ("acct2", {"poll9": "vxpolls"})):
        status, body = daemon.api("POST", "/api/accounts", {"key": key, "conversations": conv})
        assert status == 201, (status, body)
    tokens = {}
    for key in ("acct1", "acct2"):
        status, body = daemon.api("POST", "/api/tokens", {"name": key + "-owner", "account": key})
        assert status == 201, (status, body)
        tokens[key] = body["token"]
    return tokens


def test_flow(args, workdir):
    daemon = Daemon(args.exe, args.plugins, workdir)
    browser = listener = None
    try:
        tokens = setup_accounts(daemon)
        browser = b = Browser(workdir, args.screenshots)
        d = b.driver

        # Sign in with the account token.
        d.get(daemon.base + "/")
        b.find("#token")
        b.shot("01-sign-in")
        sign_in(b, daemon.base, tokens["acct1"])
        b.text_in("main h2", "Event handlers of acct1")
        assert not d.find_elements(By.ID, "account-picker"), "an account token must not get the account picker"
        b.shot("02-overview-empty")

        # (1)-(2) New event handler: source poll1, event type poll_complete.
        d.find_element(By.LINK_TEXT, "New event handler").click()
        event_type = b.find("#event-type")
        b.text_in("#sample-status", "example")
        event_type.send_keys("poll_complete", Keys.TAB)
        b.text_in("#sample-status", "No poll_complete event")
        b.value_in("#sample-event", '"from_addr"')
        b.shot("03-source-and-type")

        # (3)-(4) Step 1: a new create_contact handler, fields from the sample event.
        card1 = b.find("li.step")
        type_option = card1.find_element(By.CSS_SELECTOR, "input[type=radio][value=create_contact]")
        label = d.find_element(By.CSS_SELECTOR, f"label[for='{type_option.get_attribute('id')}']").text
        assert "contact" in label.split("\n", 1)[1], f"no description beside the handler type: {label!r}"
        type_option.click()
        b.text_in("li.step .type-help", "Output of create_contact")
        name1 = b.label(card1, "Name of the new handler")
        name1.clear()
        name1.send_keys("contacts")
        b.label(card1, "Output name (as)").send_keys("contact")
        pick_template(b, b.field(card1, "/config/fields/msisdn"), "/event/event_data/from_addr")
        pick_template(b, b.field(card1, "/config/fields/name"), "/event/event_data/answers/name")
        assert b.label(card1, "msisdn").get_attribute("value") == "{{/event/event_data/from_addr}}"
        b.shot("04-step-create-contact")

        # (5) Step 2: a new send_sms handler; to_addr left out on purpose.
        d.find_element(By.ID, "add-step").click()
        card2 = d.find_elements(By.CSS_SELECTOR, "li.step")[1]
        card2.find_element(By.CSS_SELECTOR, "input[type=radio][value=send_sms]").send_keys(Keys.SPACE)
        name2 = b.label(card2, "Name of the new handler")
        name2.clear()
        name2.send_keys("sms")
        b.label(card2, "transport_name").send_keys("sms_transport")
        content = b.label(card2, "content")
        content.send_keys("Thanks ")
        pick_template(b, b.field(card2, "/config/content"), "/steps/contact/name")
        content.send_keys(Keys.END, "!")
        assert content.get_attribute("value") == "Thanks {{/steps/contact/name}}!", content.get_attribute("value")

        # (5) A third step, moved above the second by keyboard, then removed.
        d.find_element(By.ID, "add-step").click()
        card3 = d.find_elements(By.CSS_SELECTOR, "li.step")[2]
        card3.find_element(By.CSS_SELECTOR, "input[type=radio][value=tag_router]").send_keys(Keys.SPACE)
        card3.find_element(By.CSS_SELECTOR, "button.move-up").send_keys(Keys.ENTER)
        cards = d.find_elements(By.CSS_SELECTOR, "li.step")
        assert cards[1] == card3 and cards[2] == card2, "Move up did not move the step"
        assert card3.find_element(By.TAG_NAME, "h4").text == "Step 2"
        card3.find_element(By.XPATH, ".//button[text()='Remove step']").click()
        cards = d.find_elements(By.CSS_SELECTOR, "li.step")
        assert cards == [card1, card2], "Remove step left the wrong steps"
        assert card2.find_element(By.TAG_NAME, "h4").text == "Step 2"

        # (7) Save: the server's schema error appears beside to_addr.
        d.find_element(By.ID, "save").click()
        to_addr_field = b.field(card2, "/config/to_addr")
        b.wait.until(lambda _: to_addr_field.find_element(By.CSS_SELECTOR, ".field-error").is_displayed())
        error_text = to_addr_field.find_element(By.CSS_SELECTOR, ".field-error").text
        assert 'missing required key "to_addr"' in error_text, error_text
        assert b.label(card2, "to_addr").get_attribute("aria-invalid") == "true"
        b.shot("05-schema-error")

        # Fixed with the first step's output.
        pick_template(b, to_addr_field, "/steps/contact/msisdn")

        # (6) Test on the sample event: rendered configs and results per step.
        d.find_element(By.ID, "run-test").click()
        b.text_in("#test-result", "This event handler")
        b.text_in("#test-result", "SMS to +27820001001")
        result = d.find_element(By.ID, "test-result").text
        assert '"to_addr": "+27820001001"' in result and "Thanks Ann!" in result, result
        assert not to_addr_field.find_element(By.CSS_SELECTOR, ".field-error").is_displayed()
        b.shot("06-test-result")

        # (7) Save for real.
        d.find_element(By.ID, "save").click()
        b.text_in("main h2", "Event handlers of acct1")
        b.text_in("ol.routes", "When vxpolls/poll1 fires poll_complete: create a contact, then send an SMS")
        b.text_in("#notice", "Saved: version")
        b.shot("07-saved-overview")
        status, account = daemon.api("GET", "/api/accounts/acct1")
        assert status == 200 and account["handlers"]["sms"]["options"] == {"transport_name": "sms_transport"}, account

        # A real poll_complete over ZeroMQ: the SMS on the outbound socket.
        mark = len(daemon.log())
        out_file = os.path.join(workdir, "outbound.jsonl")
        listener = subprocess.Popen([args.exe, "listen", "--connect", daemon.outbound, "--topic", "outbound.",
                                     "--count", "1", "--timeout", str(WAIT_S)],
                                    stdout=open(out_file, "w"), stderr=subprocess.STDOUT)
        daemon.wait_for_log("outbound: subscribe", mark)
        events = os.path.join(workdir, "events.jsonl")
        with open(events, "w") as f:
            f.write(json.dumps(POLL_EVENT) + "\n")
        subprocess.run([args.exe, "publish", "--connect", daemon.ingest, events], check=True, timeout=WAIT_S)
        listener.wait(timeout=WAIT_S + 10)
        listener = None
        lines = [json.loads(l) for l in open(out_file) if l.startswith("{")]
        assert len(lines) == 1, open(out_file).read()
        sms = lines[0]
        assert sms["topic"] == "outbound.sms_transport", sms
        assert sms["body"]["to_addr"] == "+27831234567" and sms["body"]["content"] == "Thanks Thandi!", sms

        # A poll_complete whose msisdn create_contact refuses: a failed run and a dead letter.
        bad = dict(POLL_EVENT, event_data={"from_addr": "not-a-number", "answers": {"name": "X"}})
        with open(events, "w") as f:
            f.write(json.dumps(bad) + "\n")
        subprocess.run([args.exe, "publish", "--connect", daemon.ingest, events], check=True, timeout=WAIT_S)

        # The runs in the page's history, with per-step results.
        d.find_element(By.LINK_TEXT, "Run history").click()
        b.text_in("#runs", "poll_complete")
        deadline = time.monotonic() + WAIT_S
        while "failed" not in d.find_element(By.ID, "runs").text and time.monotonic() < deadline:
            d.find_element(By.XPATH, "//button[text()='Show']").click()
            time.sleep(0.2)
        runs_text = d.find_element(By.ID, "runs").text
        assert "failed" in runs_text and "continue" in runs_text and "sms" in runs_text, runs_text
        # The failed run tried again on the current routes (a dry run of its kept event).
        failed = d.find_element(By.CSS_SELECTOR, "li.run-failed")
        failed.find_element(By.XPATH, ".//button[text()='Dry run on the current routes']").click()
        b.wait.until(lambda _: "contacts fail" in failed.find_element(By.CSS_SELECTOR, ".dry-run").text)
        assert "not a valid msisdn" in failed.find_element(By.CSS_SELECTOR, ".dry-run").text
        b.shot("08-run-history")

        # The sample event now comes from the run history.
        d.find_element(By.LINK_TEXT, "New event handler").click()
        event_type = b.find("#event-type")
        event_type.send_keys("poll_complete", Keys.TAB)
        b.text_in("#sample-status", "The newest poll_complete event in the run history")
        b.value_in("#sample-event", '"from_addr": "not-a-number"')

        # Disable and enable.
        d.find_element(By.LINK_TEXT, "Event handlers").click()
        b.find("ol.routes button").click()  # "Disable"
        b.text_in("ol.routes", "disabled")
        status, route = daemon.api("GET", "/api/accounts/acct1/routes/0")
        assert route.get("enabled") is False, route
        b.shot("09-route-disabled")
        d.find_element(By.XPATH, "//ol[@class='routes']//button[text()='Enable']").click()
        b.wait.until(lambda _: not d.find_elements(By.CSS_SELECTOR, "li.route.disabled"))

        # Edit (version 5), then roll back to version 4.
        d.find_element(By.PARTIAL_LINK_TEXT, "Edit").click()
        b.text_in("main h2", "Edit event handler 1")
        card2 = d.find_elements(By.CSS_SELECTOR, "li.step")[1]
        content = b.label(card2, "content")
        assert content.get_attribute("value") == "Thanks {{/steps/contact/name}}!", content.get_attribute("value")
        content.clear()
        content.send_keys("Welcome {{/steps/contact/name}}")
        d.find_element(By.ID, "save").click()
        b.text_in("#notice", "Saved: version 5")
        status, route = daemon.api("GET", "/api/accounts/acct1/routes/0")
        assert route["chain"][1]["config"]["content"] == "Welcome {{/steps/contact/name}}", route
        d.find_element(By.LINK_TEXT, "Versions").click()
        b.text_in("main", "Version 5")
        b.find("button[aria-label='Roll back to version 4']").click()
        b.text_in("#notice", "version 6 has version 4's document")
        status, route = daemon.api("GET", "/api/accounts/acct1/routes/0")
        assert route["chain"][1]["config"]["content"] == "Thanks {{/steps/contact/name}}!", route
        b.shot("10-versions")

        # Tags: claim one, route it to poll1, the rest to the default handler.
        d.find_element(By.LINK_TEXT, "Tags and default handler").click()
        b.find("#claim-tag").send_keys("longcode:12345", Keys.ENTER)
        b.text_in("#notice", "claimed")
        Select(b.label(d.find_element(By.TAG_NAME, "main"), "Messages on longcode:12345 go to")).select_by_value("poll1")
        b.find("#auto-reply").send_keys("Sorry, nothing runs here.")
        d.find_element(By.XPATH, "//button[text()='Save tag routing']").click()
        b.text_in("#notice", "Tag routing saved")
        status, account = daemon.api("GET", "/api/accounts/acct1")
        inbound = account["routes"][1]
        assert inbound["on"] == {"event_type": "inbound_message"}, inbound
        assert inbound["chain"][0]["config"] == {"routes": {"longcode:12345": "poll1"}}, inbound
        assert inbound["chain"][1]["config"] == {"auto_reply": "Sorry, nothing runs here."}, inbound
        b.shot("11-tags")
        d.find_element(By.LINK_TEXT, "Event handlers").click()
        b.text_in("ol.routes", "When a message arrives on any of the account's tags: route it by tag to a conversation, "
                               "then keep it in the inbox (the default handler)")

        # Dead letters: the refused poll_complete, replayed.
        d.find_element(By.LINK_TEXT, "Dead letters").click()
        b.text_in("main", "step_failed")
        b.find("ul.letters input[type=checkbox]").click()
        d.find_element(By.ID, "replay").click()
        b.wait.until(lambda _: "eplay" in d.find_element(By.ID, "replay-result").text)
        replay_text = d.find_element(By.ID, "replay-result").text
        assert "Replayed: #1" in replay_text, replay_text
        b.shot("12-dead-letters")
        print("flow: ok")
    finally:
        if listener is not None:
            listener.kill()
            listener.wait(timeout=10)
        if browser is not None:
            browser.quit()
        code = daemon.stop()
    assert code == 0, f"daemon exited {code}"


def test_isolation(args, workdir):
    daemon = Daemon(args.exe, args.plugins, workdir)
    browser = None
    try:
        tokens = setup_accounts(daemon)
        # The API: acct1's token lists and opens only acct1.
        status, body = daemon.api("GET", "/api/accounts", token=tokens["acct1"])
        assert status == 200 and [a["key"] for a in body["accounts"]] == ["acct1"], body
        for path in ("/api/accounts/acct2", "/api/accounts/acct2/routes", "/api/accounts/acct2/runs",
                     "/api/accounts/acct2/sample-event?event_type=poll_complete", "/api/accounts/acct2/dead-letters"):
            status, body = daemon.api("GET", path, token=tokens["acct1"])
            assert status == 403, (path, status, body)

        browser = b = Browser(workdir, None)
        d = b.driver
        sign_in(b, daemon.base, tokens["acct1"])
        b.text_in("main h2", "Event handlers of acct1")
        assert "acct2" not in d.find_element(By.TAG_NAME, "body").text
        d.get(daemon.base + "/#/a/acct2")
        b.text_in("main", 'is for account "acct1", not "acct2"')
        body = d.find_element(By.TAG_NAME, "body").text
        assert "poll9" not in body and "Event handlers of acct2" not in body, body
        d.get(daemon.base + "/#/a/acct2/new")
        b.text_in("main", 'not "acct2"')
        assert not d.find_elements(By.ID, "event-type")

        # The operator token (positive control) gets the picker with both accounts.
        d.find_element(By.XPATH, "//button[text()='Sign out']").click()
        sign_in(b, daemon.base, OPERATOR_TOKEN)
        picker = b.find("#account-picker")
        keys = [o.get_attribute("value") for o in picker.find_elements(By.TAG_NAME, "option")]
        assert keys == ["acct1", "acct2"], keys
        Select(picker).select_by_value("acct2")
        b.text_in("main h2", "Event handlers of acct2")
        print("isolation: ok")
    finally:
        if browser is not None:
            browser.quit()
        code = daemon.stop()
    assert code == 0, f"daemon exited {code}"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--exe", required=True)
    parser.add_argument("--plugins", required=True)
    parser.add_argument("--screenshots", help="folder for the flow's screenshots")
    parser.add_argument("test", choices=["flow", "isolation"])
    args = parser.parse_args()
    if MISSING:
        print(f"browser test: missing {', '.join(MISSING)}; install with scripts/setup "
              "(apt-get install chromium chromium-driver python3-selenium)", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory(prefix="vumi-web-") as workdir:
        {"flow": test_flow, "isolation": test_isolation}[args.test](args, workdir)
    return 0


if __name__ == "__main__":
    sys.exit(main())
