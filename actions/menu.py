"""The main menu: the five services and case follow-up, as numbered options."""

from typing import Tuple

# The intent each main-menu number stands for, in the order of `utter_menu`
# in domain.yml. Change both together.
MAIN_MENU_INTENTS: Tuple[str, ...] = (
    "report_issue",
    "request_procedure",
    "request_advice",
    "ask_information",
    "file_complaint",
    "check_case_status",
)
