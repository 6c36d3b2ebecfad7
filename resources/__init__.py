"""Data files of recotap-desktop (installed as ``recotap_desktop._resources``)."""
