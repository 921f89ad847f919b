#!/bin/sh
chmod -R 755 /srv/app
chmod 1777 /srv/tmp
chmod u+w file
