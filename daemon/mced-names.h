/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Every journal MESSAGE_ID kvm-mced logs with, in one place. Each has an
 * entry in systemd/kvm-mced.catalog; an id never changes meaning.
 */
#pragma once

#define MCED_MSGID_INCIDENT_OPENED  "016a85af17a346cea22ba9af41214837"
#define MCED_MSGID_INCIDENT_UPDATED "3526c0c69f274c26997b8768bab497f5"
#define MCED_MSGID_INCIDENT_MERGED  "71c3568a9577447290ce4fa76641e5d4"
#define MCED_MSGID_INCIDENT_CLOSED  "974e3e0ee5bd4abea88b545d771437e7"
#define MCED_MSGID_SOURCE_DEGRADED  "f66749ddb0c5464da78f11bb4ccb446f"
#define MCED_MSGID_SOURCE_RECOVERED "460b4d7549ab4fa7a1669fa75abaad85"
#define MCED_MSGID_STATE_PROBLEM    "41fdc546dfb84b938e56c4621edb45d9"
#define MCED_MSGID_STARTED          "66e67c78d6e6424e943c00af578b3d14"
#define MCED_MSGID_STOPPED          "70d1cc7caaf4422c898427d0cec1de2a"
#define MCED_MSGID_GUEST_PANIC      "ae67390e3de840e0b5d68f6538030c83"
#define MCED_MSGID_INPUT_REJECTED   "17ca1079de1f42ed952435a9c03a5360"
