"""The board firmware as package data (main.py, lib/plc/): rung.boards.write_flash_tree copies it to a flash tree. This file itself is not copied to boards."""
