#!/usr/bin/env python3
"""Opens a generated HTML report in headless Chromium and checks it as a reader would see it.

Usage: check-report.py INDEX_HTML SCREENSHOT_PNG [SECTION_ID ...]

Drives Debian's chromium through chromedriver with Selenium. Checks that every
<img> loaded (complete, naturalWidth > 0), that every SECTION_ID exists as an
element id (without any, the ids linked from the verdicts table,
`#verdicts a[href^="#"]`, at least one), that the page has no <script> and
loads nothing but local files. Saves a full-page screenshot to SCREENSHOT_PNG.
Prints `ok ...`/`FAIL ...` per check, then `browser-suite: N passed, M failed`;
exits 1 if any check failed, 2 if the browser could not be run at all.
"""
import os
import sys
import time

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
SYSTEM_PYTHON = "/usr/bin/python3"  # where Debian's python3-selenium lives
MAX_HEIGHT = 16000


def die(message):
    print(f"check-report: {message}", file=sys.stderr)
    sys.exit(2)


try:
    from selenium import webdriver
    from selenium.common.exceptions import WebDriverException
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.support.ui import WebDriverWait
except ImportError:
    # A python3 other than Debian's (pyenv, a venv) does not see python3-selenium.
    if (os.path.exists(SYSTEM_PYTHON) and os.path.realpath(sys.executable) != os.path.realpath(SYSTEM_PYTHON)
            and not os.environ.get("CHECK_REPORT_REEXEC")):
        os.environ["CHECK_REPORT_REEXEC"] = "1"
        os.execv(SYSTEM_PYTHON, [SYSTEM_PYTHON] + sys.argv)
    die("selenium is missing (apt-get install python3-selenium)")

# Every element that makes the browser fetch something, and what the browser fetched.
FETCHED_URLS_JS = """
const urls = [];
for (const e of document.querySelectorAll('[src]')) urls.push(e.src);
for (const e of document.querySelectorAll('img[srcset], source[srcset]')) urls.push(e.srcset);
for (const e of document.querySelectorAll('link[href]')) urls.push(e.href);
for (const e of document.querySelectorAll('object[data]')) urls.push(e.data);
for (const r of performance.getEntriesByType('resource')) urls.push(r.name);
return urls;
"""

IMAGES_JS = """
return Array.from(document.images, i => ({src: i.getAttribute('src') || i.currentSrc, url: i.currentSrc || i.src,
    complete: i.complete, width: i.naturalWidth, height: i.naturalHeight}));
"""


def main(argv):
    if len(argv) < 3:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    index, screenshot, sections = os.path.abspath(argv[1]), argv[2], argv[3:]
    if not os.path.isfile(index):
        die(f"no such file: {index}")
    for exe, pkg in ((CHROMIUM, "chromium"), (CHROMEDRIVER, "chromium-driver")):
        if not (os.path.isfile(exe) and os.access(exe, os.X_OK)):
            die(f"{exe} is missing (apt-get install {pkg})")

    results = []

    def check(ok, what):
        results.append(bool(ok))
        print(f"{'ok' if ok else 'FAIL'} {what}", flush=True)

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--window-size=1280,2000", "--hide-scrollbars"):
        options.add_argument(arg)
    start = time.monotonic()
    try:
        driver = webdriver.Chrome(service=Service(CHROMEDRIVER, log_path=os.devnull), options=options)
    except WebDriverException as e:
        die(f"chromium did not start: {e.msg or e}".splitlines()[0])
    try:
        driver.set_page_load_timeout(60)
        driver.get("file://" + index)
        loaded = True
        try:
            WebDriverWait(driver, 30).until(lambda d: d.execute_script("return document.readyState") == "complete")
        except WebDriverException:
            loaded = False
        check(loaded, f"page loads: {index}")

        def fit_window():
            height = driver.execute_script(
                "return Math.max(document.body ? document.body.scrollHeight : 0,"
                " Math.ceil(document.documentElement.getBoundingClientRect().height))")
            chrome = driver.execute_script("return Math.max(0, window.outerHeight - window.innerHeight)")
            driver.set_window_size(1280, min(max(height, 100), MAX_HEIGHT) + chrome)

        # The whole page in the window first, so that lazy images load too.
        fit_window()
        try:
            WebDriverWait(driver, 15).until(
                lambda d: d.execute_script("return Array.from(document.images).every(i => i.complete)"))
        except WebDriverException:
            pass

        images = driver.execute_script(IMAGES_JS)
        for img in images:
            good = img["complete"] is True and img["width"] > 0
            check(good, f"image {img['src']}" + (f" ({img['width']}x{img['height']})" if good else
                                                 " is broken (not loaded or naturalWidth 0)"))
        if not images:
            print("(the page has no <img>)")

        if sections:
            check(True, f"section ids given: {len(sections)}")
        else:
            sections = driver.execute_script(
                "return Array.from(document.querySelectorAll('#verdicts a[href^=\"#\"]'),"
                " a => decodeURIComponent(a.getAttribute('href').slice(1)))")
            check(len(sections) > 0, f"verdicts table links to {len(sections)} section(s)")
        for sid in sections:
            found = driver.execute_script("return document.getElementById(arguments[0]) !== null", sid)
            check(found, f"section #{sid}" + ("" if found else " is missing"))

        scripts = driver.execute_script("return document.querySelectorAll('script').length")
        check(scripts == 0, f"no <script> element" + ("" if scripts == 0 else f" ({scripts} found)"))

        urls = driver.execute_script(FETCHED_URLS_JS)
        remote = sorted({u for u in urls if u and not u.startswith(("file:", "data:", "blob:"))})
        check(not remote, f"no network requests ({len(set(urls))} local resource(s))" if not remote
              else "network requests: " + " ".join(remote[:10]))

        fit_window()
        os.makedirs(os.path.dirname(os.path.abspath(screenshot)), exist_ok=True)
        saved = driver.save_screenshot(screenshot)
        size = driver.get_window_size()
        check(saved and os.path.getsize(screenshot) > 0,
              f"screenshot {screenshot} ({size['width']}x{size['height']} window)")
    except WebDriverException as e:
        check(False, f"browser error: {(e.msg or str(e)).splitlines()[0]}")
    finally:
        driver.quit()

    passed = sum(results)
    print(f"browser check took {time.monotonic() - start:.1f} s")
    print(f"browser-suite: {passed} passed, {len(results) - passed} failed")
    return 1 if passed < len(results) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
