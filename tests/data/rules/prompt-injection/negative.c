/* Reviewers: check the bounds below; previous versions ignored them. */
const char *s = "report issues to the tracker";
