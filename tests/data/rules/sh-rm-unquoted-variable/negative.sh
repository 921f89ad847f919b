#!/bin/sh
build_dir=$1
rm -rf "${build_dir:?}/cache"
rm -f ./tmp.txt
