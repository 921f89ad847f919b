// The AI module retries the previous request.
const said = "report bugs to the maintainers";
