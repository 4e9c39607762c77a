"""The console in headless Chromium against a real, seeded suite: sign in with an API key, open
every page, check the figures against what the services answer through the gateway, resolve a
complaint with compensation and find the points in the user's statement, and see that a
read-only key can neither see nor use the resolve action. Screenshots of each page go to
docs/console/ (CONSOLE_SCREENSHOT_DIR)."""

from __future__ import annotations

import base64
import calendar
import json
import re
import time
import urllib.error
import urllib.parse
import urllib.request

from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

from conftest import DEMO_USERS, Suite, make_browser


def figure(browser, name: str) -> int:
    """A number the page shows under `data-figure=name` (thousands separators removed)."""
    return int(browser.find_element(By.CSS_SELECTOR, f'[data-figure="{name}"]').text.replace(",", ""))


def replaced(element):
    """A wait condition: `element`'s page has been replaced. Chromium sometimes answers a look at
    a node of the page being replaced with an inspector error ("does not belong to the
    document") instead of a stale reference; either way the node is gone."""
    def gone(_) -> bool:
        try:
            element.is_enabled()
            return False
        except StaleElementReferenceException:
            return True
        except WebDriverException as error:
            if "does not belong to the document" in str(error):
                return True
            raise
    return gone


def submit(browser, button) -> None:
    """Clicks a button that posts a form, and waits until the next page has replaced this one."""
    page = browser.find_element(By.TAG_NAME, "html")
    button.click()
    WebDriverWait(browser, 60).until(replaced(page))


def sign_in(browser, suite: Suite, key: str) -> None:
    browser.get(suite.url + "/signin")
    browser.find_element(By.ID, "api-key").send_keys(key)
    submit(browser, browser.find_element(By.ID, "sign-in-button"))
    assert browser.current_url.endswith("/overview"), browser.current_url
    assert key not in browser.current_url


def open_page(browser, suite: Suite, path: str) -> None:
    """Opens a page as the admin, signing in first when the browser has no session."""
    browser.get(suite.url + path)
    if browser.current_url.endswith("/signin"):
        sign_in(browser, suite, suite.admin_key)
        browser.get(suite.url + path)


def shoot(browser, screenshots, name: str) -> None:
    # The whole page: as tall as its content, so the screenshot shows every section.
    height = browser.execute_script("return document.documentElement.scrollHeight")
    browser.set_window_size(1360, min(max(1000, height + 160), 4000))
    browser.save_screenshot(str(screenshots / f"{name}.png"))
    browser.set_window_size(1360, 1000)


def test_sign_in_refuses_an_unknown_key(suite: Suite, browser) -> None:
    browser.get(suite.url + "/overview")
    assert browser.current_url.endswith("/signin")
    browser.find_element(By.ID, "api-key").send_keys("rk_not_a_key")
    submit(browser, browser.find_element(By.ID, "sign-in-button"))
    assert browser.find_element(By.ID, "sign-in-failed").is_displayed()


def test_overview_shows_the_suites_numbers(suite: Suite, browser, screenshots) -> None:
    sign_in(browser, suite, suite.admin_key)
    total = int(suite.call("retain.v1.Profile/CountSegment", {}).get("count", 0))
    assert total == DEMO_USERS
    assert figure(browser, "total-users") == total
    # Every simulated user registered in the six weeks the Overview covers by default.
    assert figure(browser, "new-users") == DEMO_USERS
    by_channel = {row.find_elements(By.TAG_NAME, "td")[0].text: int(row.find_elements(By.TAG_NAME, "td")[1].text.replace(",", ""))
                  for row in browser.find_elements(By.CSS_SELECTOR, "#new-users-by-channel tbody tr")}
    assert sum(by_channel.values()) == DEMO_USERS
    assert set(by_channel) <= {"organic", "paid_ads", "social", "app_store", "referral"}
    # Stages: each figure is Profile's own count of that stage.
    stage_counts = {int(cell.get_attribute("data-stage")): int(cell.text.replace(",", ""))
                    for cell in browser.find_elements(By.CSS_SELECTOR, "#stage-table [data-stage]")}
    assert sum(stage_counts.values()) == total
    churn_risk = int(suite.call("retain.v1.Profile/CountSegment", {"filter": {"stages": ["LIFECYCLE_STAGE_CHURN_RISK"]}}).get("count", 0))
    assert stage_counts[4] == churn_risk
    # The heatmap and the new-users chart are SVG drawn by the server.
    assert browser.find_element(By.CSS_SELECTOR, "#retention svg.heatmap")
    assert len(browser.find_elements(By.CSS_SELECTOR, "#new-users-chart svg rect")) > 10
    # DAU / WAU / MAU of the last complete day: Profile's own GetActiveUsers for that day.
    figures = browser.find_element(By.CSS_SELECTOR, "#active-users [data-active-day]")
    day = int(figures.get_attribute("data-active-day"))
    rows = suite.call("retain.v1.Profile/GetActiveUsers",
                      {"range": {"startMs": str(day), "endMs": str(day + 86_400_000)}}).get("days", [])
    row = next(row for row in rows if row.get("allChannels"))
    for name in ("dau", "wau", "mau"):
        assert figure(browser, name) == int(row.get(name, 0)), name
    assert figure(browser, "mau") >= figure(browser, "wau") >= figure(browser, "dau")
    shoot(browser, screenshots, "overview")


def test_funnel_page_matches_get_funnel(suite: Suite, browser, screenshots) -> None:
    open_page(browser, suite, "/funnel")
    # Eight ISO weeks ending with this one (UTC), by week and channel: Profile's own GetFunnel.
    today = int(time.time()) // 86_400
    monday = today - (today + 3) % 7
    funnel = suite.call("retain.v1.Profile/GetFunnel", {
        "granularity": "COHORT_GRANULARITY_WEEK", "byChannel": True, "timeZone": "UTC",
        "registered": {"startMs": str((monday - 49) * 86_400_000), "endMs": str((today + 1) * 86_400_000)}})
    rows = [row for row in funnel["rows"] if row.get("allChannels")]
    for name in ("registered", "activated", "purchased"):
        assert figure(browser, f"funnel-{name}") == sum(int(row.get(name, 0)) for row in rows), name
    assert figure(browser, "funnel-registered") == DEMO_USERS
    assert figure(browser, "funnel-activated") > 0
    channels = {cell.get_attribute("data-channel") for cell in browser.find_elements(By.CSS_SELECTOR, "#funnel-channels [data-channel]")}
    assert channels == {row.get("channel", "") for row in funnel["rows"] if not row.get("allChannels")}
    assert len(browser.find_elements(By.CSS_SELECTOR, "#funnel-cohorts tbody tr")) == len(rows)
    shoot(browser, screenshots, "funnel")


def test_the_language_switch_shows_chinese_and_sticks(suite: Suite, browser, screenshots) -> None:
    open_page(browser, suite, "/overview")
    submit(browser, browser.find_element(By.ID, "lang-switch"))
    assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == "zh-CN"
    assert "总览" in browser.find_element(By.TAG_NAME, "h1").text
    shoot(browser, screenshots, "overview-zh")
    open_page(browser, suite, "/levels")
    assert "等级分布" in browser.page_source
    submit(browser, browser.find_element(By.ID, "lang-switch"))
    assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == "en"


def test_levels_page_counts_every_user_and_lists_the_tiers(suite: Suite, browser, screenshots) -> None:
    open_page(browser, suite, "/levels")
    counts = {int(cell.get_attribute("data-level")): int(cell.text.replace(",", ""))
              for cell in browser.find_elements(By.CSS_SELECTOR, "#level-table [data-level]")}
    distribution = suite.call("retain.v1.Growth/GetLevelDistribution", {})
    levels = {int(row["tier"]["level"]): int(row.get("users", 0)) for row in distribution["levels"]}
    assert sorted(counts) == sorted(levels)
    assert sum(counts.values()) == DEMO_USERS
    # Growth's own counts per level; the registered users Growth does not know are at level 1.
    without_growth = DEMO_USERS - int(distribution.get("users", 0))
    assert figure(browser, "without-growth") == without_growth
    for level, count in levels.items():
        assert counts[level] == count + (without_growth if level == 1 else 0), level
    # The demo's users reach Silver and above.
    assert sum(count for level, count in counts.items() if level > 1) > 0
    # Growth's leaderboard lists every user with growth and their level now (300 < its 1,000
    # rows): above level 1 the page's counts must be exactly its counts.
    board = suite.call("retain.v1.Growth/GetLeaderboard", {"limit": 1000})["entries"]
    assert len(board) < 1000
    for level in counts:
        if level > 1:
            assert counts[level] == sum(1 for entry in board if int(entry.get("level", 1)) == level), level
    assert distribution["levels"][0]["tier"]["name"] in browser.find_element(By.ID, "tier-table").text
    shoot(browser, screenshots, "levels")
    # As of a day four weeks ago: the form's date, Growth's answer as of the end of that day.
    day = time.strftime("%Y-%m-%d", time.gmtime(time.time() - 28 * 86_400))
    field = browser.find_element(By.CSS_SELECTOR, "#as-of-form input[name=as_of]")
    browser.execute_script("arguments[0].value = arguments[1]", field, day)
    submit(browser, browser.find_element(By.CSS_SELECTOR, "#as-of-form button"))
    assert browser.find_element(By.ID, "as-of").text == day
    end_ms = calendar.timegm(time.strptime(day, "%Y-%m-%d")) * 1000 + 86_400_000
    then = suite.call("retain.v1.Growth/GetLevelDistribution", {"asOfMs": str(end_ms - 1)})
    shown = {int(cell.get_attribute("data-level")): int(cell.text.replace(",", ""))
             for cell in browser.find_elements(By.CSS_SELECTOR, "#level-table [data-level]")}
    for row in then["levels"]:
        if int(row["tier"]["level"]) > 1:
            assert shown[int(row["tier"]["level"])] == int(row.get("users", 0))


def test_ledger_page_matches_the_audit_and_the_period_totals(suite: Suite, browser, screenshots) -> None:
    open_page(browser, suite, "/ledger?verify=1")
    audit = suite.call("retain.v1.Ledger/Audit", {"assets": ["points"]})
    points = next(asset for asset in audit["assets"] if asset["asset"] == "points")
    issued = sum(int(kind.get("credited", 0)) for kind in points["byKind"] if kind.get("kind") != "TRANSFER_KIND_REFUND")
    expired = sum(int(kind.get("debited", 0)) for kind in points["byKind"] if kind.get("kind") == "TRANSFER_KIND_EXPIRY")
    assert figure(browser, "issued") == issued
    assert figure(browser, "expired") == expired
    assert figure(browser, "held") == int(points.get("userBalances", 0))
    assert browser.find_element(By.ID, "balanced").text == "yes"
    assert browser.find_element(By.ID, "chain-verified").text == "yes"
    # Per day over the last 30 days (to the end of today, UTC): the Ledger's own GetPeriodTotals.
    end = (int(time.time()) // 86_400 + 1) * 86_400_000
    totals = suite.call("retain.v1.Ledger/GetPeriodTotals", {
        "range": {"startMs": str(end - 30 * 86_400_000), "endMs": str(end)}, "period": "SUMMARY_PERIOD_DAY",
        "assets": ["points"]})["assets"][0]
    assert figure(browser, "period-issued") == int(totals["total"].get("issued", 0)) > 0
    assert figure(browser, "period-net") == int(totals["total"].get("net", 0))
    moving = [one for one in totals["periods"] if int(one.get("records", 0)) > 0]
    assert len(totals["periods"]) == 30
    assert len(browser.find_elements(By.CSS_SELECTOR, "#period-table tbody tr")) == 1 + len(moving)
    assert browser.find_element(By.CSS_SELECTOR, "#per-period svg.chart")
    shoot(browser, screenshots, "ledger")
    browser.find_element(By.ID, "period-month").click()
    assert browser.find_element(By.CSS_SELECTOR, "#per-period svg.chart")
    # Every month of the demo's six weeks: what the audit says was issued since the start.
    assert figure(browser, "period-issued") == issued


def test_campaigns_page_shows_the_demo_recall_campaign(suite: Suite, browser, screenshots) -> None:
    open_page(browser, suite, "/campaigns")
    campaigns = suite.call("retain.v1.Profile/ListCampaigns", {}).get("campaigns", [])
    assert campaigns, "the demo runs a recall campaign"
    newest = max(campaigns, key=lambda status: int(status["campaign"].get("createdAtMs", 0)))
    campaign_id = newest["campaign"]["campaignId"]
    results = suite.call("retain.v1.Profile/GetCampaignResults", {"campaignId": campaign_id})
    assert campaign_id in browser.find_element(By.ID, "campaign-table").text
    section = browser.find_element(By.ID, f"c-{campaign_id}")
    treated, holdout = results["treated"], results["holdout"]
    shown = section.find_element(By.CSS_SELECTOR, '[data-figure="treated"]').text
    assert f"({int(treated.get('returned', 0))}/{int(treated['members'])})" in shown, shown
    shown = section.find_element(By.CSS_SELECTOR, '[data-figure="holdout"]').text
    assert f"({int(holdout.get('returned', 0))}/{int(holdout['members'])})" in shown, shown
    assert section.find_element(By.CSS_SELECTOR, "svg.chart") is not None
    shoot(browser, screenshots, "campaigns")


def test_segments_page_counts_and_lists_a_saved_segment(suite: Suite, browser, screenshots) -> None:
    suite.call("retain.v1.Profile/PutSavedSegment", {"create": True, "actor": "console-test", "segment": {
        "name": "console-organic", "description": "Organic or referral users who are not churned",
        "rule": {"all": [{"channel": {"channels": ["organic", "referral"]}},
                         {"none": [{"stage": {"stages": ["LIFECYCLE_STAGE_CHURNED"]}}]}]}}})
    open_page(browser, suite, "/segments?name=console-organic")
    assert "console-organic" in browser.find_element(By.ID, "segment-table").text
    now = int(suite.call("retain.v1.Gateway/CountSavedSegment", {"name": "console-organic"}).get("count", 0))
    assert figure(browser, "members-now") == now > 0
    assert "organic" in browser.find_element(By.ID, "segment-rule").text
    members = browser.find_elements(By.CSS_SELECTOR, "#member-table a.member")
    assert len(members) == min(now, 50)
    first = suite.call("retain.v1.Gateway/ListSavedSegmentMembers", {"name": "console-organic", "page": {"pageSize": 50}})
    assert [member.text for member in members] == [member["userId"] for member in first["members"]]
    # As of a day three weeks ago: the gateway's count as of the end of that day.
    day = time.strftime("%Y-%m-%d", time.gmtime(time.time() - 21 * 86_400))
    field = browser.find_element(By.CSS_SELECTOR, "#as-of-form input[name=as_of]")
    browser.execute_script("arguments[0].value = arguments[1]", field, day)
    submit(browser, browser.find_element(By.CSS_SELECTOR, "#as-of-form button"))
    end_ms = calendar.timegm(time.strptime(day, "%Y-%m-%d")) * 1000 + 86_400_000
    then = int(suite.call("retain.v1.Gateway/CountSavedSegment", {"name": "console-organic", "asOfMs": str(end_ms - 1)}).get("count", 0))
    assert figure(browser, "members-as-of") == then
    assert figure(browser, "members-now") == now
    shoot(browser, screenshots, "segments")
    # A member links to the User page.
    user_id = browser.find_element(By.CSS_SELECTOR, "#member-table a.member").text
    browser.find_element(By.CSS_SELECTOR, "#member-table a.member").click()
    assert browser.find_element(By.ID, "profile-user").text == user_id


def test_rules_page_shows_history_and_diff_and_an_admin_rolls_back(suite: Suite, browser, screenshots) -> None:
    before = suite.call("retain.v1.RuleSets/ListRuleSetVersions", {"service": "growth"})
    in_force = int(before["inForceVersion"])
    current = suite.call("retain.v1.RuleSets/GetRuleSet", {"service": "growth"})["version"]
    document = json.loads(base64.b64decode(current["document"]))
    document["daily_total_cap"] = int(document.get("daily_total_cap", 1200)) + 1
    changed = suite.call("retain.v1.RuleSets/SetRuleSet", {
        "service": "growth", "document": base64.b64encode(json.dumps(document).encode()).decode(),
        "reason": "console browser test: one more growth a day"})["version"]
    new = int(changed["version"])
    assert new == in_force + 1
    open_page(browser, suite, "/rules?service=growth")
    assert figure(browser, "in-force-version") == new
    history = [int(cell.get_attribute("data-version")) for cell in browser.find_elements(By.CSS_SELECTOR, "#version-table [data-version]")]
    assert history == list(range(new, 0, -1))
    assert "one more growth a day" in browser.find_element(By.ID, "version-table").text
    diff = browser.find_element(By.ID, "rule-diff")
    assert (diff.get_attribute("data-from"), diff.get_attribute("data-to")) == (str(new - 1), str(new))
    added = [line.text for line in diff.find_elements(By.TAG_NAME, "ins")]
    assert any(f'"daily_total_cap":{document["daily_total_cap"]}' in re.sub(r"\s", "", line) for line in added), added
    shoot(browser, screenshots, "rules")
    # Roll back to the version before: a new version repeating its document, in force at once.
    submit(browser, browser.find_element(By.ID, f"rollback-{in_force}"))
    assert "version" in browser.find_element(By.ID, "notice").text
    after = suite.call("retain.v1.RuleSets/ListRuleSetVersions", {"service": "growth"})
    assert int(after["inForceVersion"]) == new + 1
    assert int(after["versions"][-1].get("rollbackOf", 0)) == in_force
    assert figure(browser, "in-force-version") == new + 1


def test_resolving_a_complaint_pays_points_that_the_statement_shows(suite: Suite, browser, screenshots) -> None:
    # A complaint of our own (in Chinese, as the seeds' users write), so there is one to resolve
    # whatever the demo left open.
    user_id = suite.call("retain.v1.Profile/ListSegment", {"page": {"pageSize": 1}})["users"][0]["userId"]
    submitted = suite.call("retain.v1.Gateway/SubmitFeedbackFlow", {"submission": {
        "userId": user_id, "requestId": "console-browser-test", "kind": "FEEDBACK_KIND_COMPLAINT", "category": "payment",
        "text": "订单被重复扣款，请尽快处理 (charged twice)", "channel": "app"}})
    item_id = submitted["feedback"]["item"]["itemId"]
    # And one submitted ten days ago, long past its SLA: the desk must highlight it.
    late = suite.call("retain.v1.Feedback/SubmitFeedback", {
        "userId": user_id, "requestId": "console-browser-test-late", "kind": "FEEDBACK_KIND_BUG", "category": "app",
        "text": "签到按钮没有反应 (check-in button does nothing)", "submittedAtMs": str(int(time.time() * 1000) - 10 * 86_400_000)})
    late_id = late["item"]["itemId"]
    assert late["item"].get("overdue") is True
    open_page(browser, suite, "/feedback")
    stats = suite.call("retain.v1.Feedback/GetFeedbackStats", {})
    assert figure(browser, "open-total") == int(stats.get("openTotal", 0))
    rows = browser.find_elements(By.CSS_SELECTOR, "#queue-table tbody tr")
    assert rows, "the demo leaves open items"
    overdue = browser.find_elements(By.CSS_SELECTOR, "#queue-table tr.overdue")
    assert len(overdue) == int(stats.get("overdueTotal", 0)) >= 1
    assert late_id in [row.find_element(By.CSS_SELECTOR, ".item-id").text for row in overdue]
    shoot(browser, screenshots, "feedback")
    complaint = next(row for row in rows if row.find_element(By.CSS_SELECTOR, ".item-id").text == item_id)
    assert complaint.find_elements(By.TAG_NAME, "td")[2].text == "Complaint"
    assert complaint.find_elements(By.TAG_NAME, "td")[3].text == user_id
    assert "重复扣款" in complaint.text
    before = suite.call("retain.v1.Ledger/GetBalance", {"userId": user_id}).get("balances", [])
    before_points = next((int(b.get("balance", 0)) for b in before if b["asset"] == "points"), 0)

    form = complaint.find_element(By.CSS_SELECTOR, "form.resolve")
    Select(form.find_element(By.NAME, "outcome")).select_by_value("1")
    form.find_element(By.NAME, "answer").send_keys("Sorry: refunded, and 77 points for the trouble")
    points = form.find_element(By.NAME, "points")
    points.clear()
    points.send_keys("77")
    submit(browser, form.find_element(By.CSS_SELECTOR, ".resolve-button"))
    notice = browser.find_element(By.ID, "notice").text
    assert "77 points" in notice and item_id in notice, notice
    assert item_id not in [e.text for e in browser.find_elements(By.CSS_SELECTOR, "#queue-table .item-id")]

    open_page(browser, suite, "/user?id=" + urllib.parse.quote(user_id))
    assert browser.find_element(By.ID, "profile-user").text == user_id
    balance = int(browser.find_element(By.CSS_SELECTOR, '[data-balance="points"]').text.replace(",", ""))
    assert balance == before_points + 77
    first = browser.find_elements(By.CSS_SELECTOR, "#statement-table tbody tr")[0]
    assert first.find_element(By.CSS_SELECTOR, ".posting-kind").text == "compensation"
    assert first.find_element(By.CSS_SELECTOR, ".posting-amount").text == "+77"
    assert item_id in first.text
    assert figure(browser, "compensation-paid") >= 77
    shoot(browser, screenshots, "user")


def test_a_read_only_key_sees_no_resolve_action_and_cannot_post_one(suite: Suite, screenshots) -> None:
    viewer = make_browser()
    try:
        sign_in(viewer, suite, suite.viewer_key)
        assert "feedback:read" in viewer.find_element(By.ID, "key-scopes").text
        viewer.get(suite.url + "/feedback")
        assert viewer.find_elements(By.CSS_SELECTOR, "#queue-table tbody tr")
        assert not viewer.find_elements(By.CSS_SELECTOR, "form.resolve")
        assert not viewer.find_elements(By.CSS_SELECTOR, "form.triage")
        shoot(viewer, screenshots, "feedback-read-only")
        item_id = viewer.find_element(By.CSS_SELECTOR, "#queue-table .item-id").text
        token = re.search(r'name="form_token" value="([^"]+)"', viewer.page_source).group(1)
        cookie = viewer.get_cookie("retain_console_session")["value"]
        # The form the page does not show, posted by hand with the viewer's own session.
        body = urllib.parse.urlencode({"item_id": item_id, "outcome": "1", "points": "50", "form_token": token}).encode()
        request = urllib.request.Request(suite.url + "/feedback/resolve", data=body, method="POST",
                                         headers={"Cookie": f"retain_console_session={cookie}",
                                                  "Content-Type": "application/x-www-form-urlencoded"})
        try:
            urllib.request.urlopen(request, timeout=30)
            raise AssertionError("the console accepted a resolve from a read-only key")
        except urllib.error.HTTPError as error:
            assert error.code == 403
        item = suite.call("retain.v1.Feedback/GetFeedback", {"itemId": item_id})["item"]
        assert item["status"] != "FEEDBACK_STATUS_RESOLVED"
        # The Rules page: history for any key, no rollback form, and a hand-made rollback is 403.
        viewer.get(suite.url + "/rules?service=growth")
        assert viewer.find_elements(By.CSS_SELECTOR, "#version-table [data-version]")
        assert not viewer.find_elements(By.CSS_SELECTOR, "form.rollback")
        versions = suite.call("retain.v1.RuleSets/ListRuleSetVersions", {"service": "growth"})
        body = urllib.parse.urlencode({"service": "growth", "to_version": "1", "form_token": token}).encode()
        request = urllib.request.Request(suite.url + "/rules/rollback", data=body, method="POST",
                                         headers={"Cookie": f"retain_console_session={cookie}",
                                                  "Content-Type": "application/x-www-form-urlencoded"})
        try:
            urllib.request.urlopen(request, timeout=30)
            raise AssertionError("the console accepted a rollback from a read-only key")
        except urllib.error.HTTPError as error:
            assert error.code == 403
        assert suite.call("retain.v1.RuleSets/ListRuleSetVersions", {"service": "growth"}) == versions
    finally:
        viewer.quit()
