// Device class from uap-core's output plus a few User-Agent tokens, checked in this order:
//  1. bot:     uap-core's device family "Spider".
//  2. other:   TVs and consoles (SMART-TV, CrKey, AppleTV, PlayStation, Xbox, Nintendo).
//  3. tablet:  iPad / Kindle / Tablet in the device family or UA, Windows RT, PlayBook, Silk,
//              and Android browsers without the "Mobile" token (Google's rule for tablets).
//  4. mobile:  a mobile OS (iOS, Android, Windows Phone, KaiOS, ...), an iPhone/iPod/generic
//              phone device, or "Mobi" anywhere in the UA (MDN's rule).
//  5. desktop: a desktop OS (Windows, macOS, Linux distributions, Chrome OS, BSDs) or a Mac.
//  6. other:   everything else, including libraries (curl, python-requests) and garbage.
// iPadOS 13+ Safari sends a Mac UA by default, so those iPads count as desktop.
#include <algorithm>
#include <array>
#include <string_view>

#include "worker/enrich/user_agent.h"

namespace shortener::enrich {
namespace {

bool contains(std::string_view haystack, std::string_view needle) {
  return haystack.find(needle) != std::string_view::npos;
}

template <std::size_t N>
bool contains_any(std::string_view haystack, const std::array<std::string_view, N>& needles) {
  return std::any_of(needles.begin(), needles.end(),
                     [&](std::string_view n) { return contains(haystack, n); });
}

template <std::size_t N>
bool one_of(std::string_view value, const std::array<std::string_view, N>& values) {
  return std::find(values.begin(), values.end(), value) != values.end();
}

constexpr std::array<std::string_view, 7> kTvOrConsoleTokens = {
    "SMART-TV", "SmartTV", "CrKey", "AppleTV", "PlayStation", "Xbox", "Nintendo"};

constexpr std::array<std::string_view, 3> kTabletDevices = {"iPad", "Kindle", "Tablet"};
// "Tablet;" not "Tablet": old desktop IE UAs carry "Tablet PC 2.0".
constexpr std::array<std::string_view, 5> kTabletTokens = {"Tablet;", "PlayBook", "Silk/", "Kindle",
                                                           "iPad"};

constexpr std::array<std::string_view, 16> kMobileOs = {
    "iOS",        "Android",   "Windows Phone", "Windows Mobile", "BlackBerry OS", "KaiOS",
    "Symbian OS", "Symbian^3", "Firefox OS",    "Sailfish",       "webOS",         "Tizen",
    "Bada",       "MeeGo",     "Maemo",         "HarmonyOS"};

constexpr std::array<std::string_view, 4> kPhoneDevices = {"iPhone", "iPod", "Generic Smartphone",
                                                           "Generic Feature Phone"};

constexpr std::array<std::string_view, 24> kDesktopOs = {
    "Mac OS X",   "Mac OS",  "macOS",     "Linux",    "Ubuntu",  "Kubuntu", "Xubuntu",   "Debian",
    "Fedora",     "Red Hat", "SUSE",      "openSUSE", "Mint",    "Gentoo",  "Slackware", "Mandriva",
    "Arch Linux", "CentOS",  "Chrome OS", "ChromeOS", "FreeBSD", "OpenBSD", "NetBSD",    "Solaris"};

bool is_windows_desktop(std::string_view os) {
  return os.starts_with("Windows") && !os.starts_with("Windows Phone") &&
         !os.starts_with("Windows Mobile") && !os.starts_with("Windows CE") &&
         !os.starts_with("Windows RT");
}

bool is_tablet(const UserAgent& parsed, std::string_view ua) {
  const std::string_view device = parsed.device.family;
  if (contains_any(device, kTabletDevices) || contains_any(ua, kTabletTokens)) return true;
  if (parsed.os.family == "Windows RT") return true;
  return parsed.os.family == "Android" && ua.starts_with("Mozilla/") && !contains(ua, "Mobile");
}

bool is_mobile(const UserAgent& parsed, std::string_view ua) {
  return one_of(parsed.os.family, kMobileOs) || one_of(parsed.device.family, kPhoneDevices) ||
         contains(ua, "Mobi");
}

}  // namespace

DeviceClass classify_device(const UserAgent& parsed, std::string_view ua) {
  if (parsed.device.family == "Spider") return DeviceClass::bot;
  if (contains_any(ua, kTvOrConsoleTokens)) return DeviceClass::other;
  if (is_tablet(parsed, ua)) return DeviceClass::tablet;
  if (is_mobile(parsed, ua)) return DeviceClass::mobile;
  if (is_windows_desktop(parsed.os.family) || one_of(parsed.os.family, kDesktopOs) ||
      parsed.device.family == "Mac") {
    return DeviceClass::desktop;
  }
  return DeviceClass::other;
}

}  // namespace shortener::enrich
