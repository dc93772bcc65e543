/**
 * Writes the labelled sentiment data set the example model is trained on: short English reviews
 * of products, movies and restaurants, 1 = positive, 0 = negative. The project cannot download a
 * corpus, so it composes its own from templates and vocabularies, seeded so that every run gives
 * the same files.
 *
 * The set is meant to be learnable by a bag-of-words model but not trivially: many words appear
 * under both labels (contrast clauses "X but Y" where Y decides, "not bad" / "not great",
 * "not as good as", "who thought this was a good idea"), and case, punctuation, slang and typos
 * vary.
 *
 *   npx tsx models/src/data/generate-sentiment-data.ts [--out DIR] [--seed N] [--count N]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { SeededRandom } from '../random.js';

export interface Example {
  text: string;
  /** 1 = positive, 0 = negative. */
  label: 0 | 1;
}

export interface SentimentDataOptions {
  seed: number;
  /** Total number of examples (rounded down to an even number: half positive, half negative). */
  count: number;
  /** Share of each label that goes to the test split (default 0.2). */
  testFraction?: number;
}

export const DEFAULT_SENTIMENT_SEED = 20240;
export const DEFAULT_SENTIMENT_COUNT = 2400;

type Polarity = 'pos' | 'neg';
const OPPOSITE: Record<Polarity, Polarity> = { pos: 'neg', neg: 'pos' };
type ByPolarity = Record<Polarity, readonly string[]>;

interface Domain {
  subjects: readonly string[];
  aspects: readonly string[];
  /** Adjectives that fit this domain, added to the general ones. */
  adjectives: ByPolarity;
  /** Whole clauses about the experience ("it died after {n} days"). */
  experiences: ByPolarity;
  /** Closing verdicts ("Would buy again."). */
  verdicts: ByPolarity;
  /** Facts with no sentiment, to add realistic noise. */
  neutral: readonly string[];
  /** Things to compare against. */
  others: readonly string[];
}

const DOMAINS: readonly Domain[] = [
  {
    // products
    subjects: [
      'this phone',
      'the blender',
      'these headphones',
      'this laptop',
      'the vacuum',
      'this coffee maker',
      'the charger',
      'this backpack',
      'the keyboard',
      'this mattress',
      'the kettle',
      'these running shoes',
      'the smartwatch',
      'this router',
      'the air fryer',
      'this desk chair',
      'the camera',
      'this tablet',
      'the speaker',
      'these sheets',
      'the printer',
      'this jacket',
      'the toaster',
      'this monitor',
      'the electric toothbrush',
      'this stroller',
      'the yoga mat',
      'these earbuds',
      'the drill',
      'this suitcase',
      'the e-reader',
      'this rice cooker',
      'the webcam',
      'these curtains',
      'the hair dryer',
      'this lamp',
    ],
    aspects: [
      'the battery life',
      'the build quality',
      'the sound quality',
      'the price',
      'the setup',
      'the design',
      'customer support',
      'the shipping',
      'the screen',
      'the instructions',
      'the fit',
      'the materials',
      'the performance',
      'the app',
      'the packaging',
      'the warranty',
      'the cord',
      'the buttons',
      'the color',
      'the weight',
      'the size',
      'the noise level',
      'the return process',
      'the manual',
      'the zipper',
    ],
    adjectives: {
      pos: ['sturdy', 'well made', 'comfortable', 'responsive', 'intuitive', 'affordable', 'quiet', 'durable'],
      neg: ['flimsy', 'cheap feeling', 'uncomfortable', 'laggy', 'confusing', 'overpriced', 'noisy', 'defective', 'useless'],
    },
    experiences: {
      pos: [
        'it still works perfectly after {n} months',
        'setup took {n} minutes and everything just worked',
        'the battery easily lasts all day',
        'it arrived early and well packed',
        'it does exactly what it promises',
        'my whole family uses it every day',
        'it replaced {n} gadgets on my counter',
      ],
      neg: [
        'it stopped working after {n} days',
        'it broke the first time I used it',
        'the battery dies in {n} hours',
        'it arrived scratched and missing parts',
        'support never answered my {n} emails',
        'it overheats constantly',
        'the buttons stopped responding within a week',
      ],
    },
    verdicts: {
      pos: ['Would buy again.', 'Worth every penny.', 'Best purchase this year.', 'Buying one for my sister too.', 'Totally worth it.'],
      neg: ['Returning it tomorrow.', 'Waste of money.', 'Save your money.', 'Already asked for a refund.', 'Do not buy.'],
    },
    neutral: ['I bought it last month.', 'Got it on sale.', 'Ordered the black one.', 'This is my second one.', 'Bought it as a gift.'],
    others: ['my old one', 'the previous model', 'the cheaper brands', 'what I had before', 'the competition'],
  },
  {
    // movies and shows
    subjects: [
      'this movie',
      'the film',
      'the sequel',
      'this documentary',
      'the remake',
      'this thriller',
      'the comedy',
      'this horror flick',
      'the series finale',
      'this animated feature',
      'the show',
      'the new season',
      'this romcom',
      'the miniseries',
      'this period drama',
      'the reboot',
      'this superhero movie',
      'the musical',
      'this indie film',
      'the spinoff',
      'this crime drama',
      'the anime',
      'this sci-fi epic',
    ],
    aspects: [
      'the plot',
      'the acting',
      'the soundtrack',
      'the pacing',
      'the dialogue',
      'the ending',
      'the visuals',
      'the cast',
      'the script',
      'the cinematography',
      'the special effects',
      'the lead actor',
      'the villain',
      'the twist',
      'the humor',
      'the first act',
      'the costumes',
      'the score',
      'the editing',
      'the romance',
      'the fight scenes',
      'the supporting cast',
      'the runtime',
      'the world building',
    ],
    adjectives: {
      pos: ['gripping', 'hilarious', 'moving', 'beautifully shot', 'clever', 'heartfelt', 'gorgeous', 'riveting'],
      neg: ['boring', 'predictable', 'cringey', 'confusing', 'dull', 'forgettable', 'unwatchable', 'painfully slow'],
    },
    experiences: {
      pos: [
        'I was hooked from start to finish',
        'I laughed the whole way through',
        'I cried at the end, in a good way',
        'I have already watched it {n} times',
        'the whole theater clapped at the end',
        'I could not look away',
        'it stayed with me for days',
      ],
      neg: [
        'I fell asleep halfway through',
        'we walked out after {n} minutes',
        'I kept checking my phone',
        'I guessed the twist in the first {n} minutes',
        'the whole theater groaned at the ending',
        'I want those {n} hours of my life back',
        'nothing happens for the first hour',
      ],
    },
    verdicts: {
      pos: ['A must-see.', 'Go watch it.', 'Instant classic.', 'Already planning a rewatch.', 'Two thumbs up.'],
      neg: ['Skip it.', 'Total letdown.', 'Not worth the ticket.', 'Save yourself the trouble.', 'What a waste of an evening.'],
    },
    neutral: ['Watched it with my kids.', 'Saw it on opening night.', 'Streamed it last weekend.', 'I read the book first.', 'We saw the late showing.'],
    others: ['the original', 'the first one', 'the book', 'the trailer', "last year's version"],
  },
  {
    // restaurants
    subjects: [
      'this place',
      'the restaurant',
      'this bistro',
      'the diner',
      'this pizzeria',
      'the cafe',
      'this taco truck',
      'the sushi bar',
      'this steakhouse',
      'the bakery',
      'the food',
      'this noodle shop',
      'the brunch spot',
      'this food hall',
      'the wine bar',
      'the ramen place',
      'this vegan cafe',
      'the food truck',
      'this tapas bar',
      'the hotel restaurant',
      'this burger joint',
      'the dumpling house',
    ],
    aspects: [
      'the service',
      'the pasta',
      'the burger',
      'the portions',
      'the staff',
      'the ambience',
      'the coffee',
      'the dessert',
      'the wait',
      'the prices',
      'our waiter',
      'the fries',
      'the wine list',
      'the noodles',
      'the bread',
      'the music',
      'the patio',
      'the soup',
      'the salad',
      'the cocktails',
      'the steak',
      'the curry',
      'the tacos',
      'the menu',
      'the seating',
      'the dumplings',
    ],
    adjectives: {
      pos: ['delicious', 'tasty', 'fresh', 'friendly', 'cozy', 'generous', 'flavorful', 'attentive'],
      neg: ['bland', 'greasy', 'stale', 'rude', 'cramped', 'tiny', 'overpriced', 'cold', 'soggy'],
    },
    experiences: {
      pos: [
        'the food came out hot and fast',
        'our server remembered us from last time',
        'we were seated right away',
        'every dish we ordered was a hit',
        'they gave us free dessert for a birthday',
        'we have been back {n} times already',
        'the chef came out to say hi',
      ],
      neg: [
        'we waited {n} minutes for cold food',
        'they got our order wrong twice',
        'I got sick the next day',
        'the table was sticky and nobody cleaned it',
        'we were ignored for {n} minutes',
        'they charged us for things we never ordered',
        'the manager argued with us',
      ],
    },
    verdicts: {
      pos: ['Will definitely be back.', "Can't wait to go back.", 'Our new favorite spot.', 'Book a table now.', 'Highly recommend.'],
      neg: ['Never going back.', 'Eat somewhere else.', 'Never again.', 'Not coming back.', 'Would not recommend.'],
    },
    neutral: ['We went on a Friday night.', 'Came here for a work lunch.', 'We had a reservation for six.', 'It was our first visit.', 'We sat outside.'],
    others: ['the place next door', 'their other location', 'what I make at home', 'the chain places', 'the old menu'],
  },
];

const STRONG: ByPolarity = {
  pos: [
    'amazing',
    'fantastic',
    'excellent',
    'outstanding',
    'wonderful',
    'superb',
    'brilliant',
    'incredible',
    'perfect',
    'phenomenal',
    'flawless',
    'terrific',
    'awesome',
  ],
  neg: [
    'terrible',
    'awful',
    'horrible',
    'dreadful',
    'atrocious',
    'abysmal',
    'pathetic',
    'disastrous',
    'appalling',
    'horrendous',
    'infuriating',
    'unacceptable',
  ],
};
const MILD: ByPolarity = {
  pos: ['good', 'nice', 'solid', 'pleasant', 'great', 'lovely', 'impressive', 'enjoyable', 'reliable', 'charming', 'fun', 'satisfying'],
  neg: ['bad', 'poor', 'mediocre', 'disappointing', 'weak', 'sloppy', 'lackluster', 'underwhelming', 'annoying', 'frustrating', 'meh', 'subpar'],
};
const INTENSIFIERS = ['', '', '', 'really ', 'very ', 'super ', 'incredibly ', 'pretty ', 'quite ', 'so ', 'absolutely ', 'truly ', 'genuinely ', 'seriously '];
/** Soften the criticism in the minor clause of a contrast, so the main clause carries the label. */
const SOFTENERS = ['a bit', 'slightly', 'a little', 'kind of', 'somewhat', 'a tad', 'maybe a bit', 'sort of'];
/** Praise too faint to carry a review, for the minor clause of a negative contrast. */
const LUKEWARM = ['decent', 'fine', 'okay', 'nice enough', 'pleasant enough', 'alright', 'passable', 'good enough', 'nice', 'solid', 'fine I guess'];
const OPENERS = [
  '',
  '',
  '',
  '',
  'Honestly, ',
  'Tbh ',
  'Ngl ',
  'Overall, ',
  'I have to say, ',
  'Well, ',
  'Seriously, ',
  'To be fair, ',
  'So yeah, ',
  'Okay so ',
];
const VERBS: ByPolarity = {
  pos: ['love', 'loved', 'really enjoyed', 'adore', 'was impressed by', 'am so happy with', 'was blown away by', "can't stop recommending"],
  neg: ['hated', 'regret choosing', 'was disappointed by', "can't stand", 'am so done with', 'was let down by', 'could not stand', 'deeply regret'],
};
/** Negated phrases: the negation flips the sentiment of the word it carries. */
const NEGATED: ByPolarity = {
  pos: [
    'not bad at all',
    'honestly not bad',
    'far from boring',
    'never disappointing',
    'not overpriced at all',
    'nothing to complain about',
    'not what I feared, it was great',
    'no complaints whatsoever',
  ],
  neg: [
    'not great',
    'not good at all',
    'not worth the money',
    'not what I hoped for',
    'nothing special',
    'not even close to good',
    'not impressive in any way',
    'no fun at all',
  ],
};
const NEGATED_CLAUSES: ByPolarity = {
  pos: [
    "I can't complain",
    'I have zero regrets',
    'I never had a single problem',
    'I could not be happier',
    'it never lets me down',
    "I wouldn't change a thing",
  ],
  neg: [
    "I don't recommend it",
    "I didn't enjoy it one bit",
    "I wouldn't go back",
    'it never worked right',
    "I can't say anything nice about it",
    "I wouldn't wish it on anyone",
  ],
};
const SLANG: ByPolarity = {
  pos: [
    'is fire',
    'slaps',
    'is lowkey amazing',
    'hits different',
    'is a total banger',
    'is goated',
    'is legit good',
    'is sooo good',
    'is a whole vibe',
    "is chef's kiss",
  ],
  neg: [
    'is mid',
    'is trash',
    'is kinda garbage',
    'was a flop',
    'is a snooze fest',
    'is straight up bad',
    'is a hot mess',
    'was meh at best',
    'is a whole lot of nope',
    'is so cringe',
  ],
};
const SLANG_OPENERS = ['ngl', 'tbh', 'lol', 'fr', 'honestly', 'yo', 'lowkey', 'not gonna lie', 'bruh'];
const RATINGS: ByPolarity = {
  pos: ['5 stars', '10/10', '9/10', '4.5 stars', 'Five stars', '5/5', 'A+', '4 out of 5'],
  neg: ['1 star', '2/10', '0 stars', 'One star', '1/5', '3/10', 'F', 'Zero out of ten'],
};
const COMPARISONS: ByPolarity = {
  pos: ['way better than {other}', 'so much better than {other}', 'better than I expected', 'miles ahead of {other}', 'even better than {other}'],
  neg: ['much worse than {other}', 'not as good as {other}', 'a step down from {other}', 'nowhere near as good as {other}', 'worse than {other} in every way'],
};
const EXPECTATIONS: ByPolarity = {
  pos: ['exceeded my expectations', 'lived up to the hype', 'was a pleasant surprise', 'turned out better than the reviews said', 'won me over'],
  neg: [
    'did not live up to the hype',
    'fell short of my expectations',
    'left me expecting so much more',
    'was a huge disappointment',
    'was nothing like the reviews said',
  ],
};
const QUESTIONS: ByPolarity = {
  pos: [
    "Why didn't I try {subject} sooner?",
    'Where has {subject} been all my life?',
    'How is {subject} this good?',
    'Who knew {subject} could be this {adj}?',
  ],
  neg: ['Who thought {aspect} was a good idea?', 'How is {aspect} this {adj}?', 'Why is {aspect} so {adj}?', 'What happened to {subject}?'],
};
/** Sentence ends; the last sentence of a review may also have none. */
const ENDINGS = ['.', '.', '.', '.', '!', '!', '!!', '!!!', '...', '?!'];

interface Context {
  rng: SeededRandom;
  domain: Domain;
  /** What the review is about ("this phone"), the same through the whole text. */
  subject: string;
  p: Polarity;
}

function pick<T>(rng: SeededRandom, items: readonly T[]): T {
  return items[rng.int(items.length)]!;
}

/** A pick that differs from `not` (so that one text does not praise and pan the same aspect). */
function pickOther<T>(rng: SeededRandom, items: readonly T[], not: T | undefined): T {
  for (;;) {
    const item = pick(rng, items);
    if (item !== not) return item;
  }
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

function fill(template: string, c: Context, p: Polarity = c.p): string {
  return template
    .replaceAll('{n}', () => String(2 + c.rng.int(29)))
    .replaceAll('{other}', () => pick(c.rng, c.domain.others))
    .replaceAll('{subject}', () => c.subject)
    .replaceAll('{aspect}', () => pick(c.rng, c.domain.aspects))
    .replaceAll('{adj}', () => adjective(c, p, { forSubject: template.includes('{subject}') }));
}

/**
 * An adjective of polarity `p`, strong ones less often than mild ones. Domain adjectives
 * ("delicious", "flimsy") only describe the subject: on an aspect ("the price") they would not fit.
 */
function adjective(c: Context, p: Polarity, options: { strength?: 'strong' | 'mild'; forSubject?: boolean } = {}): string {
  const roll = c.rng.next();
  if (options.strength === 'strong' || (options.strength === undefined && roll < 0.3)) return pick(c.rng, STRONG[p]);
  if (options.strength === 'mild' || !options.forSubject || roll < 0.65) return pick(c.rng, MILD[p]);
  return pick(c.rng, c.domain.adjectives[p]);
}

/**
 * The minor clause of a contrast, which goes against the label and is weaker than the main
 * clause: lukewarm praise ("decent") or softened criticism ("a bit slow").
 */
function minorClause(c: Context, p: Polarity, aspect: string): string {
  const quality = p === 'pos' ? pick(c.rng, LUKEWARM) : `${pick(c.rng, SOFTENERS)} ${adjective(c, 'neg', { strength: 'mild' })}`;
  return `${aspect} ${was(aspect)} ${quality}`;
}

function end(c: Context): string {
  return pick(c.rng, ENDINGS);
}

/** The end of the last sentence: sometimes none, as people type. */
function lastEnd(c: Context): string {
  return c.rng.next() < 0.1 ? '' : end(c);
}

/** Plural noun phrases ("the fries", "these headphones") take are/were; "the mattress", "the miniseries" do not. */
const isPlural = (noun: string): boolean => /s$/.test(noun) && !/(ss|series)$/.test(noun);
const be = (noun: string): string => (isPlural(noun) ? 'are' : 'is');
const was = (noun: string): string => (isPlural(noun) ? 'were' : 'was');

/** One clause of polarity p, used inside the larger templates; `notAspect` is one already talked about. */
function clause(c: Context, p: Polarity = c.p, notAspect?: string): string {
  const { rng, domain } = c;
  switch (rng.int(6)) {
    case 0:
      return `${c.subject} ${be(c.subject)} ${pick(rng, INTENSIFIERS)}${adjective(c, p, { forSubject: true })}`;
    case 1: {
      const aspect = pickOther(rng, domain.aspects, notAspect);
      return `${aspect} ${was(aspect)} ${pick(rng, INTENSIFIERS)}${adjective(c, p)}`;
    }
    case 2:
      return `I ${pick(rng, VERBS[p])} ${c.subject}`;
    case 3:
      return fill(pick(rng, domain.experiences[p]), c, p);
    case 4:
      return pick(rng, NEGATED_CLAUSES[p]);
    default:
      return `overall it was ${pick(rng, STRONG[p])}`;
  }
}

/** Sentence templates; each returns a text whose sentiment is c.p. */
const TEMPLATES: readonly { weight: number; make: (c: Context) => string }[] = [
  {
    weight: 10, // plain statement
    make: (c) => `${pick(c.rng, OPENERS)}${c.subject} ${be(c.subject)} ${pick(c.rng, INTENSIFIERS)}${adjective(c, c.p, { forSubject: true })}${lastEnd(c)}`,
  },
  {
    weight: 8, // two aspects, same direction
    make: (c) => {
      const a = pick(c.rng, c.domain.aspects);
      const b = pickOther(c.rng, c.domain.aspects, a);
      return `${capitalize(a)} ${was(a)} ${pick(c.rng, INTENSIFIERS)}${adjective(c, c.p)} and ${b} ${was(b)} ${adjective(c, c.p)}${lastEnd(c)}`;
    },
  },
  {
    weight: 8, // feeling + verdict
    make: (c) => `${pick(c.rng, OPENERS)}I ${pick(c.rng, VERBS[c.p])} ${c.subject}${end(c)} ${pick(c.rng, c.domain.verdicts[c.p])}`,
  },
  {
    weight: 14, // contrast: the minor clause goes against the label, the main clause decides
    make: (c) => {
      const aspect = pick(c.rng, c.domain.aspects);
      const minor = minorClause(c, OPPOSITE[c.p], aspect);
      const main = clause(c, c.p, aspect);
      switch (c.rng.int(4)) {
        case 0:
          return `${capitalize(minor)}, but ${main}${lastEnd(c)}`;
        case 1:
          return `Although ${minor}, ${main}${lastEnd(c)}`;
        case 2:
          return `${capitalize(minor)}. However, ${main}${lastEnd(c)}`;
        default:
          return c.p === 'pos' ? `I had low expectations, but ${main}${lastEnd(c)}` : `I really wanted to like ${c.subject}, but ${main}${lastEnd(c)}`;
      }
    },
  },
  {
    weight: 10, // negation
    make: (c) => {
      switch (c.rng.int(3)) {
        case 0:
          return `${pick(c.rng, OPENERS)}${c.subject} ${was(c.subject)} ${pick(c.rng, NEGATED[c.p])}${lastEnd(c)}`;
        case 1: {
          const aspect = pick(c.rng, c.domain.aspects);
          // "wasn't slow at all" is positive, "wasn't very good" negative
          return c.p === 'pos'
            ? `${capitalize(aspect)} ${was(aspect)}n't ${adjective(c, 'neg', { strength: 'mild' })} at all${lastEnd(c)}`
            : `${capitalize(aspect)} ${was(aspect)}n't ${pick(c.rng, ['very ', 'that ', 'even ', ''])}${adjective(c, 'pos', { strength: 'mild' })}${lastEnd(c)}`;
        }
        default:
          return `${capitalize(fill(pick(c.rng, c.domain.experiences[c.p]), c))} and ${pick(c.rng, NEGATED_CLAUSES[c.p])}${lastEnd(c)}`;
      }
    },
  },
  {
    weight: 6, // slang, mostly lowercase
    make: (c) => `${pick(c.rng, SLANG_OPENERS)} ${c.subject} ${pick(c.rng, SLANG[c.p])}${lastEnd(c)}`,
  },
  {
    weight: 6, // rating + statement
    make: (c) =>
      c.rng.next() < 0.5
        ? `${pick(c.rng, RATINGS[c.p])}. ${capitalize(clause(c))}${lastEnd(c)}`
        : `${capitalize(clause(c))}${end(c)} ${pick(c.rng, RATINGS[c.p])}`,
  },
  {
    weight: 8, // experience
    make: (c) => {
      const text = capitalize(fill(pick(c.rng, c.domain.experiences[c.p]), c));
      return c.rng.next() < 0.5 ? `${text}${end(c)} ${pick(c.rng, c.domain.verdicts[c.p])}` : `${text}${lastEnd(c)}`;
    },
  },
  {
    weight: 6, // comparison
    make: (c) => `${pick(c.rng, OPENERS)}${c.subject} ${be(c.subject)} ${fill(pick(c.rng, COMPARISONS[c.p]), c)}${lastEnd(c)}`,
  },
  {
    weight: 6, // expectations
    make: (c) => `${capitalize(c.subject)} ${pick(c.rng, EXPECTATIONS[c.p])}${lastEnd(c)}`,
  },
  {
    weight: 4, // rhetorical question
    make: (c) => fill(pick(c.rng, QUESTIONS[c.p]), c),
  },
  {
    weight: 8, // neutral fact + clause (+ verdict)
    make: (c) => {
      const text = `${pick(c.rng, c.domain.neutral)} ${capitalize(clause(c))}`;
      return c.rng.next() < 0.4 ? `${text}${end(c)} ${pick(c.rng, c.domain.verdicts[c.p])}` : `${text}${lastEnd(c)}`;
    },
  },
  {
    weight: 8, // expectations turned around and sarcasm: the words of one side, the meaning of the other
    make: (c) => {
      const opposite = adjective(c, OPPOSITE[c.p], { strength: 'mild' });
      const said = pick(c.rng, ['Everyone said', 'My friends said', 'The reviews said', 'People online said']);
      if (c.p === 'pos') {
        switch (c.rng.int(3)) {
          case 0:
            return `${said} ${c.subject} was ${opposite}, but I ${pick(c.rng, VERBS.pos)} it${lastEnd(c)}`;
          case 1:
            return `I expected ${c.subject} to be ${opposite}. I was wrong, ${clause(c)}${lastEnd(c)}`;
          default:
            return `${said} it was ${opposite}. Ignore them, ${clause(c)}${lastEnd(c)}`;
        }
      }
      switch (c.rng.int(4)) {
        case 0:
          return `${said} ${c.subject} was ${opposite}, but I ${pick(c.rng, VERBS.neg)} it${lastEnd(c)}`;
        case 1:
          return `I expected ${c.subject} to be ${opposite}. Boy, was I wrong${lastEnd(c)}`;
        case 2:
          return `${said} it was ${opposite}. They lied${lastEnd(c)}`;
        default:
          // sarcasm
          return `${pick(c.rng, ['Great', 'Oh wonderful', 'Just perfect', 'Fantastic', 'Love that'])}, ${fill(pick(c.rng, c.domain.experiences.neg), c)}${lastEnd(c)}`;
      }
    },
  },
  {
    weight: 6, // two sentences, same direction
    make: (c) => {
      const first = clause(c);
      let second = clause(c);
      while (second === first) second = clause(c);
      return `${capitalize(first)}${end(c)} ${capitalize(second)}${lastEnd(c)}`;
    },
  },
];
const TOTAL_WEIGHT = TEMPLATES.reduce((sum, t) => sum + t.weight, 0);

function pickTemplate(rng: SeededRandom): (c: Context) => string {
  let roll = rng.next() * TOTAL_WEIGHT;
  for (const t of TEMPLATES) {
    roll -= t.weight;
    if (roll < 0) return t.make;
  }
  return TEMPLATES[TEMPLATES.length - 1]!.make;
}

/** One typo in one word of at least 5 letters: swapped, dropped or doubled letter. */
function addTypo(rng: SeededRandom, text: string): string {
  const words = text.split(' ');
  const candidates = words.map((w, i) => (/^[a-z]{5,}$/i.test(w) ? i : -1)).filter((i) => i >= 0);
  if (candidates.length === 0) return text;
  const index = pick(rng, candidates);
  const w = words[index]!;
  const at = 1 + rng.int(w.length - 2);
  switch (rng.int(3)) {
    case 0:
      words[index] = w.slice(0, at) + w[at + 1] + w[at] + w.slice(at + 2);
      break;
    case 1:
      words[index] = w.slice(0, at) + w.slice(at + 1);
      break;
    default:
      words[index] = w.slice(0, at) + w[at] + w.slice(at);
  }
  return words.join(' ');
}

/** Case as people type it: mostly as written, sometimes all lowercase, a shouted word, or all caps. */
function varyCase(rng: SeededRandom, text: string): string {
  const roll = rng.next();
  if (roll < 0.1) return text.toLowerCase();
  if (roll < 0.13) return text.toUpperCase();
  if (roll < 0.2) {
    const words = text.split(' ');
    const long = words.map((w, i) => (w.length >= 4 ? i : -1)).filter((i) => i >= 0);
    if (long.length > 0) {
      const i = pick(rng, long);
      words[i] = words[i]!.toUpperCase();
    }
    return words.join(' ');
  }
  return text;
}

function makeText(rng: SeededRandom, p: Polarity): string {
  const domain = pick(rng, DOMAINS);
  const c: Context = { rng, domain, subject: pick(rng, domain.subjects), p };
  let text = capitalize(pickTemplate(rng)(c).replace(/\s+/g, ' ').trim());
  if (rng.next() < 0.12) text = addTypo(rng, text);
  return varyCase(rng, text);
}

/**
 * A balanced, deterministic data set: `count` distinct texts (half per label), shuffled, with
 * `testFraction` of each label in the test split. No file I/O.
 */
export function generateSentimentData(options: SentimentDataOptions): { train: Example[]; test: Example[] } {
  const { seed, count } = options;
  const testFraction = options.testFraction ?? 0.2;
  if (!Number.isSafeInteger(count) || count < 2) throw new RangeError(`count must be an integer >= 2, got ${count}`);
  if (!(testFraction > 0 && testFraction < 1)) throw new RangeError(`testFraction must be in (0, 1), got ${testFraction}`);
  const rng = new SeededRandom(seed);
  const perLabel = Math.floor(count / 2);
  // Distinct texts across both labels and both splits, compared case-insensitively so that the
  // test split never holds a train sentence in other capitals.
  const seen = new Set<string>();
  const byLabel: Record<Polarity, Example[]> = { pos: [], neg: [] };
  for (const p of ['pos', 'neg'] as const) {
    let attempts = 0;
    while (byLabel[p].length < perLabel) {
      if (++attempts > perLabel * 50) throw new Error(`cannot make ${perLabel} distinct ${p} texts`);
      const text = makeText(rng, p);
      const key = text.toLowerCase();
      if (seen.has(key)) continue;
      seen.add(key);
      byLabel[p].push({ text, label: p === 'pos' ? 1 : 0 });
    }
  }
  const train: Example[] = [];
  const test: Example[] = [];
  for (const examples of [byLabel.pos, byLabel.neg]) {
    const nTest = Math.round(examples.length * testFraction);
    test.push(...examples.slice(0, nTest));
    train.push(...examples.slice(nTest));
  }
  rng.shuffle(train);
  rng.shuffle(test);
  return { train, test };
}

function toJsonl(examples: readonly Example[]): string {
  return examples.map((e) => JSON.stringify({ text: e.text, label: e.label }) + '\n').join('');
}

export interface WriteSentimentDataOptions {
  outDir: string;
  seed?: number;
  count?: number;
}

/** Generates the data set and writes `train.jsonl` and `test.jsonl` into outDir. */
export function writeSentimentData(options: WriteSentimentDataOptions): { trainPath: string; testPath: string; train: number; test: number } {
  const { train, test } = generateSentimentData({
    seed: options.seed ?? DEFAULT_SENTIMENT_SEED,
    count: options.count ?? DEFAULT_SENTIMENT_COUNT,
  });
  mkdirSync(options.outDir, { recursive: true });
  const trainPath = join(options.outDir, 'train.jsonl');
  const testPath = join(options.outDir, 'test.jsonl');
  writeFileSync(trainPath, toJsonl(train));
  writeFileSync(testPath, toJsonl(test));
  return { trainPath, testPath, train: train.length, test: test.length };
}

function parseArgs(argv: readonly string[]): WriteSentimentDataOptions {
  // models/src/data (tsx) and models/build/data (compiled) are both two levels below models/.
  const options: WriteSentimentDataOptions = { outDir: resolve(__dirname, '..', '..', 'sentiment', 'data') };
  for (let i = 0; i < argv.length; i += 2) {
    const [flag, value] = [argv[i], argv[i + 1]];
    if (value === undefined) throw new Error(`missing value after ${flag}`);
    if (flag === '--out') options.outDir = resolve(value);
    else if (flag === '--seed') options.seed = Number(value);
    else if (flag === '--count') options.count = Number(value);
    else throw new Error(`unknown option ${flag} (use --out DIR, --seed N, --count N)`);
  }
  return options;
}

if (require.main === module) {
  const written = writeSentimentData(parseArgs(process.argv.slice(2)));
  console.log(`wrote ${written.train} examples to ${written.trainPath} and ${written.test} to ${written.testPath}`);
}
