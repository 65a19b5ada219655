"""Real user agents and addresses of opens and clicks, each with where it was published.

``source`` names the publication of the user agent and, after a semicolon, of the address. Where
no address was published for a client, the sample uses a documentation address (RFC 5737
192.0.2.0/24, 198.51.100.0/24) and says so: those classes do not depend on the address.
"""

from __future__ import annotations

from dataclasses import dataclass

from tracker.domain.engagement import FetchKind, Verdict

DEVICE_DETECTOR = "Matomo device-detector, Tests/fixtures"
CRAWLER_USER_AGENTS = "monperrus/crawler-user-agents, crawler-user-agents.json 'instances'"
DOC_ADDRESS = "documentation address (RFC 5737)"


@dataclass(frozen=True)
class Sample:
    name: str
    kind: FetchKind
    user_agent: str | None
    ip_address: str | None
    code: str
    verdict: Verdict
    source: str


APPLE_MPP = Sample(
    "Apple Mail Privacy Protection, from Apple's 17.0.0.0/8",
    "open",
    "Mozilla/5.0",
    "17.58.101.183",
    "apple_mpp",
    Verdict.PRIVACY_PROXY,
    "SocketLabs help, 'Identifying Apple MPP opens in Notification API events' and SendGrid docs, "
    "'Understanding Apple Mail Privacy Protection and open events' (bare 'Mozilla/5.0'); "
    "address in Apple's ARIN block 17.0.0.0/8",
)
APPLE_MPP_RELAY = Sample(
    "Apple Mail Privacy Protection, from a Private Relay egress range",
    "open",
    "Mozilla/5.0",
    "172.225.46.70",
    "apple_mpp",
    Verdict.PRIVACY_PROXY,
    "as APPLE_MPP; address in 172.225.46.64/26 of the shipped egress snapshot (Apple's egress-ip-ranges.csv format)",
)
GMAIL_PROXY = Sample(
    "Gmail image proxy",
    "open",
    "Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)",
    "66.249.93.84",
    "gmail_proxy",
    Verdict.HUMAN,
    f"{DEVICE_DETECTOR}/bots.yml; address from a SendGrid open-event capture (pastebin.com/qupFDWg8)",
)
YAHOO_PROXY = Sample(
    "Yahoo Mail proxy",
    "open",
    "YahooMailProxy; https://help.yahoo.com/kb/yahoo-mail-proxy-SLN28749.html",
    "192.0.2.44",
    "yahoo_proxy",
    Verdict.HUMAN,
    f"{DEVICE_DETECTOR}/bots.yml; {DOC_ADDRESS}",
)
OUTLOOK_2016 = Sample(
    "Outlook 2016+ on Windows (image fetch)",
    "open",
    "Mozilla/4.0 (compatible; ms-office; MSOffice 16)",
    "198.51.100.20",
    "mail_client",
    Verdict.HUMAN,
    f"{DEVICE_DETECTOR} (desktop); {DOC_ADDRESS}",
)
OUTLOOK_2010 = Sample(
    "Outlook 2010 on Windows",
    "open",
    "Microsoft Office/14.0 (Windows NT 6.1; Microsoft Outlook 14.0.6106; Pro; ms-office; MSOffice 14)",
    "198.51.100.21",
    "mail_client",
    Verdict.HUMAN,
    f"{DEVICE_DETECTOR} (desktop); {DOC_ADDRESS}",
)
OUTLOOK_MAC = Sample(
    "Outlook for Mac",
    "open",
    "Microsoft Office Outlook/16.100.824 (Mac OS/15.6.1; Desktop; en-US; NonAppStore; Apple/Mac16,7)",
    "198.51.100.22",
    "mail_client",
    Verdict.HUMAN,
    f"{DEVICE_DETECTOR} (desktop); {DOC_ADDRESS}",
)
OUTLOOK_WEB = Sample(
    "Outlook on the web, through Microsoft's Exchange Online image proxy",
    "open",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/132.0.0.0 Safari/537.36",
    "52.97.146.5",
    "browser",
    Verdict.HUMAN,
    f"{DEVICE_DETECTOR} (desktop); address in Exchange Online's 52.96.0.0/14 (Microsoft 365 URLs and IP "
    "address ranges), not in Exchange Online Protection's: warmbly/warmbly#412 (Outlook on the web loads "
    "images through Microsoft's proxy)",
)
IOS_MAIL = Sample(
    "iOS Mail, Mail Privacy Protection off",
    "open",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148",
    "198.51.100.23",
    "mail_client",
    Verdict.HUMAN,
    "the WebKit agent without a Safari token that uap-core (ua-parser 1.0.2) parses as 'Mobile Safari "
    f"UI/WKWebView'; {DOC_ADDRESS}",
)
MACOS_MAIL = Sample(
    "macOS Mail, Mail Privacy Protection off",
    "open",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko)",
    "198.51.100.24",
    "mail_client",
    Verdict.HUMAN,
    f"uap-core regexes.yaml 'Apple Mail' rule (ua-parser 1.0.2 parses this as 'Apple Mail'); {DOC_ADDRESS}",
)
THUNDERBIRD = Sample(
    "Thunderbird on macOS",
    "open",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10.15; rv:102.0) Gecko/20100101 Thunderbird/102.5.1",
    "198.51.100.25",
    "mail_client",
    Verdict.HUMAN,
    f"User-Agent header of a public LKML message (netdev, 6 Dec 2022); {DOC_ADDRESS}",
)
GMAIL_IOS_APP = Sample(
    "Gmail iOS app, link opened in its viewer",
    "click",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Mobile/15E148 Gmail/6.0.240609",
    "198.51.100.26",
    "mail_client",
    Verdict.HUMAN,
    f"a public email bot-filter test suite's 'gmail ios viewer' agent; {DOC_ADDRESS}",
)
DEFENDER_EOP = Sample(
    "Microsoft Defender Safe Links detonation from Exchange Online Protection",
    "click",
    "Mozilla/5.0 (Windows NT 6.1) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/57.0.2987.133 Safari/537.36",
    "40.107.218.12",
    "scanner:defender",
    Verdict.SCANNER,
    "gophish/gophish#973 'Safelink false positives' (agent and address from its log)",
)
DEFENDER_BLANK = Sample(
    "Microsoft Defender Safe Links, blank user agent",
    "click",
    "",
    "104.47.1.254",
    "scanner:defender",
    Verdict.SCANNER,
    "edalzell/laravel-passwordless-login#79 ('the user-agent is always blank', 104.47.x addresses)",
)
DEFENDER_AZURE = Sample(
    "Microsoft Defender Safe Links from an address outside the EOP list (timing rules catch it)",
    "click",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/72.0.3626.109 Safari/537.36",
    "40.94.29.84",
    "browser",
    Verdict.HUMAN,
    "opencollective/opencollective#3656 (agent); mautic/mautic#9400 (address)",
)
MIMECAST = Sample(
    "Mimecast URL Protect",
    "click",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/97.0.4692.99 Safari/537.36",
    "205.139.110.61",
    "scanner:mimecast",
    Verdict.SCANNER,
    "scanners send ordinary browser agents (mautic/mautic#9798); address of us-smtp-1.mimecast.com in "
    "public LKML headers, inside us._netblocks.mimecast.com",
)
PROOFPOINT = Sample(
    "Proofpoint URL Defense",
    "click",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/97.0.4692.99 Safari/537.36",
    "205.220.168.131",
    "scanner:proofpoint",
    Verdict.SCANNER,
    "scanners send ordinary browser agents (mautic/mautic#9798); address of mx0a-0031df01.pphosted.com "
    "in public LKML headers",
)
PROOFPOINT_OPEN = Sample(
    "Proofpoint fetching the open pixel",
    "open",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/97.0.4692.99 Safari/537.36",
    "148.163.150.75",
    "scanner:proofpoint",
    Verdict.PREFETCH,
    "as PROOFPOINT; address of mx0a-0002e601.pphosted.com in public LKML headers",
)
BARRACUDA = Sample(
    "Barracuda Sentinel",
    "click",
    "Barracuda Sentinel (EE)",
    "198.51.100.27",
    "scanner:barracuda",
    Verdict.SCANNER,
    f"{DEVICE_DETECTOR}/bots.yml; {DOC_ADDRESS}",
)
HEADLESS_CHROME = Sample(
    "Headless Chrome",
    "click",
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/74.0.3729.169 Safari/537.36",
    "198.51.100.28",
    "headless",
    Verdict.SCANNER,
    f"{CRAWLER_USER_AGENTS} (HeadlessChrome); {DOC_ADDRESS}",
)
CURL = Sample(
    "curl",
    "click",
    "curl/7.29.0",
    "198.51.100.29",
    "tool",
    Verdict.SCANNER,
    f"{CRAWLER_USER_AGENTS} (^curl); {DOC_ADDRESS}",
)
CURL_OPEN = Sample(
    "curl fetching the open pixel",
    "open",
    "curl/7.29.0",
    "198.51.100.29",
    "tool",
    Verdict.PREFETCH,
    CURL.source,
)
GOOGLEBOT = Sample(
    "Googlebot (left to CrawlerDetect)",
    "click",
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "198.51.100.30",
    "bot",
    Verdict.SCANNER,
    f"Google Search Central, 'Googlebot' user agents; {DOC_ADDRESS}",
)
BINGPREVIEW = Sample(
    "BingPreview link preview",
    "click",
    "Mozilla/5.0 (Windows NT 6.1; WOW64) AppleWebKit/534+ (KHTML, like Gecko) BingPreview/1.0b",
    "198.51.100.31",
    "scanner:bing",
    Verdict.SCANNER,
    f"{CRAWLER_USER_AGENTS} (BingPreview); {DOC_ADDRESS}",
)

# Ordinary browsers, desktop and mobile: none may be taken for a machine.
CHROME_WINDOWS = Sample(
    "Chrome on Windows",
    "click",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/132.0.0.0 Safari/537.36",
    "198.51.100.40",
    "browser",
    Verdict.HUMAN,
    f"{DEVICE_DETECTOR} (desktop); {DOC_ADDRESS}",
)
FIREFOX_WINDOWS = Sample(
    "Firefox on Windows",
    "click",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:109.0) Gecko/20100101 Firefox/121.0",
    "198.51.100.41",
    "browser",
    Verdict.HUMAN,
    f"{DEVICE_DETECTOR} (desktop); {DOC_ADDRESS}",
)
EDGE_WINDOWS = Sample(
    "Edge on Windows",
    "click",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/95.0.4638.69 "
    "Safari/537.36 Edg/95.0.1020.44",
    "198.51.100.42",
    "browser",
    Verdict.HUMAN,
    f"{DEVICE_DETECTOR} (desktop); {DOC_ADDRESS}",
)
SAFARI_MACOS = Sample(
    "Safari on macOS",
    "click",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4.1 "
    "Safari/605.1.15",
    "198.51.100.43",
    "browser",
    Verdict.HUMAN,
    f"MDN, 'User-Agent' header (Safari example form); {DOC_ADDRESS}",
)
SAFARI_IPHONE_RELAY = Sample(
    "Safari on iPhone through iCloud Private Relay (a person, on Apple's addresses)",
    "click",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 "
    "Mobile/15E148 Safari/604.1",
    "172.225.46.71",
    "browser",
    Verdict.HUMAN,
    "MDN, 'User-Agent' header (Mobile Safari form); Bird guide on MPP: Private Relay does not change the "
    "user agent of clicks; address in the shipped Private Relay snapshot",
)
CHROME_ANDROID = Sample(
    "Chrome on Android",
    "click",
    "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Mobile Safari/537.36",
    "198.51.100.44",
    "browser",
    Verdict.HUMAN,
    f"{DEVICE_DETECTOR} (smartphone); {DOC_ADDRESS}",
)
EDGE_ANDROID = Sample(
    "Edge on Android",
    "click",
    "Mozilla/5.0 (Linux; Android 10; M2002F4LG) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/88.0.4324.150 "
    "Mobile Safari/537.36 EdgA/88.0.705.68",
    "198.51.100.45",
    "browser",
    Verdict.HUMAN,
    f"{DEVICE_DETECTOR} (smartphone); {DOC_ADDRESS}",
)
FIREFOX_ANDROID = Sample(
    "Firefox on Android",
    "click",
    "Mozilla/5.0 (Android 14; Mobile; rv:128.0) Gecko/128.0 Firefox/128.0",
    "198.51.100.46",
    "browser",
    Verdict.HUMAN,
    f"MDN, 'Firefox user agent string reference' (Android form); {DOC_ADDRESS}",
)
CHROME_IOS = Sample(
    "Chrome on iPhone",
    "click",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "CriOS/126.0.6478.54 Mobile/15E148 Safari/604.1",
    "198.51.100.47",
    "browser",
    Verdict.HUMAN,
    f"Chrome for iOS 'CriOS' agent form (Chrome developer docs, user agent strings); {DOC_ADDRESS}",
)

MACHINES = (
    APPLE_MPP,
    APPLE_MPP_RELAY,
    DEFENDER_EOP,
    DEFENDER_BLANK,
    MIMECAST,
    PROOFPOINT,
    PROOFPOINT_OPEN,
    BARRACUDA,
    HEADLESS_CHROME,
    CURL,
    CURL_OPEN,
    GOOGLEBOT,
    BINGPREVIEW,
)
PEOPLE = (
    GMAIL_PROXY,
    YAHOO_PROXY,
    OUTLOOK_2016,
    OUTLOOK_2010,
    OUTLOOK_MAC,
    OUTLOOK_WEB,
    IOS_MAIL,
    MACOS_MAIL,
    THUNDERBIRD,
    GMAIL_IOS_APP,
    CHROME_WINDOWS,
    FIREFOX_WINDOWS,
    EDGE_WINDOWS,
    SAFARI_MACOS,
    SAFARI_IPHONE_RELAY,
    CHROME_ANDROID,
    EDGE_ANDROID,
    FIREFOX_ANDROID,
    CHROME_IOS,
)
# A machine whose agent and address look like a person's: only the timing rules can tell.
TIMING_ONLY = (DEFENDER_AZURE,)
ALL_SAMPLES = MACHINES + PEOPLE + TIMING_ONLY
