"""One file per revision; never edit a released revision, add a new one."""
