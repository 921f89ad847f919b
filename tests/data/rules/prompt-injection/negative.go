package main

// You are welcome to extend this.
var x = "previous instructions were wrong"
