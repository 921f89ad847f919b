#!/bin/sh
set -e
echo "cleaning up"
BUILD_DIR=$1
rm -rf $BUILD_DIR/cache
