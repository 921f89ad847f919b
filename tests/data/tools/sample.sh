#!/bin/sh
dir=$1
rm -rf $dir/cache
for f in $(ls *.txt); do
  echo $f
done
if [ $dir == "x" ]; then echo same; fi
