@echo off
rem final.cmd, written by imagecustom: removes the customization files, which hold passwords.
if exist "%SystemRoot%\Panther\unattend.xml" del /f /q "%SystemRoot%\Panther\unattend.xml"
rd /s /q "%SystemRoot%\imagecustom"
