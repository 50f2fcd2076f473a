%## The default policy
%
% The policy a request answers to when it names none (`--policy`,
% KnowledgeBase(policy=...)), now that more than one is installed.

%!  default_policy(Number)
default_policy("cigna-0284").
